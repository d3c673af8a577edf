# surv_td_r.R - the R oracle for sylva's time-dependent performance
# (sv.surv.auc_t, brier_t, calibration_t, concordance timewt = "n/G2",
# cutpoint). Writes tests/fixtures/surv_td/, which tests/lua/test_surv_td.lua
# compares against (CI never runs R). Run from the repository root:
#   Rscript tests/oracle/surv_td_r.R
# Cohorts: survival's gbsg (rfstime, status), rotterdam (rtime, recur) and
# lung (time, status - 1; complete cases of age, sex, ph.ecog). The marker
# is the linear predictor of a Cox model; a second, cruder model gives the
# paired comparison and predicted survival for the Brier score. Markers and
# predicted survival are written with 17 digits, so that R and sylva rank
# exactly the same numbers (ties included).
# Peers: riskRegression 2022.11.28 Score(cens.model = "km", se.fit = TRUE,
# conservative = FALSE); survival 3.5 concordance(timewt = "n/G2");
# maxstat 0.7-25 maxstat.test(smethod = "LogRank", pmethod = "Lau94").
suppressMessages({
  library(survival); library(riskRegression); library(maxstat)
})
out <- "tests/fixtures/surv_td"
dir.create(out, showWarnings = FALSE, recursive = TRUE)
fmt <- function(x) ifelse(is.na(x), "NA", sprintf("%.17g", x))
write_table <- function(df, file) {
  for (j in seq_along(df)) if (is.numeric(df[[j]])) df[[j]] <- fmt(df[[j]])
  write.csv(df, file.path(out, file), row.names = FALSE, quote = FALSE)
}

gbsg <- read.csv("tests/fixtures/data/gbsg.csv")
rott <- read.csv("tests/fixtures/data/rotterdam.csv")
lung <- survival::lung
lung <- lung[complete.cases(lung[, c("time", "status", "age", "sex", "ph.ecog")]), ]
lung$event <- lung$status - 1

cohorts <- list(
  gbsg = list(d = gbsg, time = "rfstime", event = "status",
              f1 = ~ age + size + grade + nodes + pgr + er + hormon, f2 = ~ size + nodes,
              times = c(365, 730, 1095, 1825), cutvar = "pgr"),
  rott = list(d = rott, time = "rtime", event = "recur",
              f1 = ~ age + meno + grade + nodes + pgr + er + hormon + chemo, f2 = ~ nodes + grade,
              times = c(365, 1095, 1825, 3650), cutvar = "nodes"),
  lung = list(d = lung, time = "time", event = "event",
              f1 = ~ age + sex + ph.ecog, f2 = ~ age,
              times = c(180, 365, 540, 730), cutvar = "age"))

auc_rows <- list(); brier_rows <- list(); uno_rows <- list(); cut_rows <- list()
cal_rows <- list(); cal_groups <- list()
for (cn in names(cohorts)) {
  co <- cohorts[[cn]]
  d <- co$d
  T <- d[[co$time]]; E <- d[[co$event]]
  # one horizon that is an event time itself: cases are T <= t
  te <- sort(unique(T[E == 1]))[floor(sum(E) / 3)]
  times <- sort(unique(c(co$times, te)))
  dd <- data.frame(time = T, event = E, d[, all.vars(co$f1), drop = FALSE])
  f1 <- coxph(update(Surv(time, event) ~ ., co$f1), data = dd, x = TRUE)
  f2 <- coxph(update(Surv(time, event) ~ ., co$f2), data = dd, x = TRUE)
  lp1 <- as.numeric(sprintf("%.17g", predict(f1, type = "lp")))
  lp2 <- as.numeric(sprintf("%.17g", predict(f2, type = "lp")))
  S1 <- 1 - predictRisk(f1, newdata = dd, times = times)
  S1[] <- as.numeric(sprintf("%.17g", S1))
  data_out <- data.frame(time = T, event = E, lp1 = lp1, lp2 = lp2, cut = d[[co$cutvar]])
  for (k in seq_along(times)) data_out[[paste0("S", k)]] <- S1[, k]
  write_table(data_out, sprintf("%s_data.csv", cn))

  sd <- data.frame(time = T, event = E)
  # AUC(t) of lp1 and lp2 and their contrast (lp1 minus lp2)
  sc <- Score(list(lp2 = matrix(lp2, length(T), length(times)),
                   lp1 = matrix(lp1, length(T), length(times))),
              formula = Surv(time, event) ~ 1, data = sd, times = times, metrics = "auc",
              cens.model = "km", se.fit = TRUE, null.model = FALSE)
  a1 <- sc$AUC$score[sc$AUC$score$model == "lp1", ]
  a2 <- sc$AUC$score[sc$AUC$score$model == "lp2", ]
  ct <- sc$AUC$contrasts
  auc_rows[[cn]] <- data.frame(cohort = cn, time = times, auc = a1$AUC, se = a1$se,
                               lo = a1$lower, hi = a1$upper, auc2 = a2$AUC, se2 = a2$se,
                               diff = ct$delta.AUC, diff_se = ct$se, diff_lo = ct$lower,
                               diff_hi = ct$upper, p = ct$p)
  # the ROC curve at the second horizon (Score's plotframe: one row per
  # distinct marker, decreasing; TPR and FPR of marker >= risk)
  sr <- Score(list(lp1 = matrix(lp1, length(T), 1)), formula = Surv(time, event) ~ 1,
              data = sd, times = times[2], metrics = "auc", cens.model = "km",
              null.model = FALSE, plots = "ROC")
  pf <- sr$ROC$plotframe
  write_table(data.frame(t = times[2], threshold = pf$risk, tpr = pf$TPR, fpr = pf$FPR),
              sprintf("%s_roc.csv", cn))
  # Brier(t) and IBS of the predicted survival S1
  sb <- Score(list(m = 1 - S1), formula = Surv(time, event) ~ 1, data = sd, times = times,
              metrics = "brier", cens.model = "km", se.fit = TRUE, null.model = FALSE,
              summary = "ibs")
  b <- sb$Brier$score
  brier_rows[[cn]] <- data.frame(cohort = cn, time = times, brier = b$Brier, se = b$se,
                                 lo = b$lower, hi = b$upper, ibs = b$IBS)
  # Uno's C of lp1 and of a tied marker
  for (mk in c("lp1", "cut")) {
    x <- data_out[[mk]]
    cc <- concordance(Surv(T, E) ~ x, timewt = "n/G2", reverse = TRUE)
    uno_rows[[paste(cn, mk)]] <- data.frame(cohort = cn, marker = mk, c = cc$concordance,
      var = cc$var, concordant = cc$count[["concordant"]], discordant = cc$count[["discordant"]],
      tied_risk = cc$count[["tied.x"]], tied_time = cc$count[["tied.y"]],
      tied_both = cc$count[["tied.xy"]])
  }
  # cut-points of lp1 and of a raw variable with ties, two minprops
  for (mk in c("lp1", "cut")) for (mp in c(0.1, 0.25)) {
    x <- data_out[[mk]]
    mt <- maxstat.test(Surv(T, E) ~ x, data = data.frame(T = T, E = E, x = x),
                       smethod = "LogRank", pmethod = "Lau94", minprop = mp, maxprop = 1 - mp)
    cut_rows[[paste(cn, mk, mp)]] <- data.frame(cohort = cn, marker = mk, minprop = mp,
      cut = mt$estimate, statistic = mt$statistic, p = mt$p.value, ncuts = length(mt$cuts))
  }
  # calibration at the third horizon of S1, 10 and 4 risk groups
  k <- 3; t <- times[k]; s <- S1[, k]; risk <- 1 - s
  for (g in c(10, 4)) {
    br <- unique(quantile(risk, seq(0, 1, length.out = g + 1), type = 7))
    grp <- cut(risk, br, include.lowest = TRUE, labels = FALSE)
    for (q in sort(unique(grp))) {
      sel <- grp == q
      f <- survfit(Surv(T[sel], E[sel]) ~ 1)
      sm <- summary(f, times = t, extend = TRUE)
      cal_groups[[paste(cn, g, q)]] <- data.frame(cohort = cn, groups = g, group = q,
        n = sum(sel), events = sum(E[sel] == 1 & T[sel] <= t), pred = mean(risk[sel]),
        obs = 1 - sm$surv, obs_lo = 1 - sm$upper, obs_hi = 1 - sm$lower)
    }
  }
  f <- survfit(Surv(T, E) ~ 1)
  sm <- summary(f, times = t)
  oe <- (1 - sm$surv) / mean(risk)
  lse <- sm$std.err / (1 - sm$surv)   # summary's std.err is se(S)
  sl <- coxph(Surv(T, E) ~ I(log(-log(s))))
  cal_rows[[cn]] <- data.frame(cohort = cn, t = t, observed = 1 - sm$surv, expected = mean(risk),
    oe = oe, oe_lo = oe * exp(-qnorm(0.975) * lse), oe_hi = oe * exp(qnorm(0.975) * lse),
    slope = coef(sl)[[1]], slope_se = sqrt(vcov(sl)[1, 1]))
}
write_table(do.call(rbind, auc_rows), "auc.csv")
write_table(do.call(rbind, brier_rows), "brier.csv")
write_table(do.call(rbind, uno_rows), "uno.csv")
write_table(do.call(rbind, cut_rows), "cutpoint.csv")
write_table(do.call(rbind, cal_rows), "calibration.csv")
write_table(do.call(rbind, cal_groups), "calibration_groups.csv")

# maxstat's own example (DLBCL, 40 patients): the documented golden
data(DLBCL, package = "maxstat")
DLBCL <- DLBCL[complete.cases(DLBCL[, c("time", "cens", "MGE")]), ]
mt <- maxstat.test(Surv(time, cens) ~ MGE, data = DLBCL, smethod = "LogRank", pmethod = "Lau94")
write_table(data.frame(time = DLBCL$time, event = DLBCL$cens, MGE = DLBCL$MGE), "dlbcl_data.csv")
write_table(data.frame(cut = mt$estimate, statistic = mt$statistic, p = mt$p.value,
                       ncuts = length(mt$cuts)), "dlbcl_cutpoint.csv")
cat("riskRegression", as.character(packageVersion("riskRegression")),
    "survival", as.character(packageVersion("survival")),
    "maxstat", as.character(packageVersion("maxstat")), "\n")
