# meta_r.R - fixtures for sv.meta from metafor (rma.uni + confint + predict)
# on real meta-analytic data sets that ship with metafor (its metadat
# package), and for the pooling of per-centre AUCs and O/E ratios on the
# Rotterdam cohort (centres = year of surgery). Run from the repository root:
#   Rscript tests/oracle/meta_r.R
# Writes tests/fixtures/meta/*.csv (17 significant digits).
suppressMessages({library(metafor); library(pROC)})
out <- "tests/fixtures/meta"
dir.create(out, showWarnings = FALSE, recursive = TRUE)
num <- function(x) {
  s <- sprintf("%.17g", x)
  s[is.infinite(x) & x > 0] <- "1e999"
  s[is.na(x)] <- "NA"
  s
}
write_fix <- function(df, name) {
  for (j in seq_along(df)) if (is.numeric(df[[j]])) df[[j]] <- num(df[[j]])
  write.csv(df, file.path(out, name), row.names = FALSE, quote = FALSE)
}

# ---- data sets: (yi, vi) as the metafor documentation computes them ----
sets <- list()
b <- escalc(measure = "RR", ai = tpos, bi = tneg, ci = cpos, di = cneg, data = dat.bcg)
sets$bcg <- b
sets$bcg2 <- b[1:2, ]                                  # k = 2
sets$hackshaw1998 <- dat.hackshaw1998                  # log OR given
sets$normand1999 <- escalc(measure = "MD", m1i = m1i, sd1i = sd1i, n1i = n1i,
                           m2i = m2i, sd2i = sd2i, n2i = n2i, data = dat.normand1999)
sets$pritz1997 <- escalc(measure = "PLO", xi = xi, ni = ni, data = dat.pritz1997)
sets$bangertdrowns2004 <- dat.bangertdrowns2004[!is.na(dat.bangertdrowns2004$yi), ]
sets$molloy2014 <- escalc(measure = "ZCOR", ri = ri, ni = ni, data = dat.molloy2014)
sets$li2007 <- escalc(measure = "OR", ai = ai, n1i = n1i, ci = ci, n2i = n2i,
                      data = dat.li2007, drop00 = TRUE)
sets$li2007 <- sets$li2007[!is.na(sets$li2007$yi), ]
sets$yusuf1985 <- escalc(measure = "PETO", ai = ai, n1i = n1i, ci = ci, n2i = n2i,
                         data = dat.yusuf1985[dat.yusuf1985$table == "6", ])
sets$yusuf1985 <- sets$yusuf1985[!is.na(sets$yusuf1985$yi), ]

rows <- list()
for (nm in names(sets)) {
  d <- sets[[nm]]
  yi <- as.numeric(d$yi); vi <- as.numeric(d$vi)
  write_fix(data.frame(yi = yi, vi = vi), sprintf("data_%s.csv", nm))
  for (method in c("REML", "DL")) for (test in c("z", "knha")) for (level in c(0.95, 0.90)) {
    r <- rma(yi, vi, method = method, test = test, level = 100 * level)
    ci <- confint(r, level = 100 * level, control = list(tol = 1e-14))$random
    pr <- predict(r, level = 100 * level)
    w <- weights(r)
    rows[[length(rows) + 1]] <- data.frame(
      case = nm, method = method, test = test, level = level, k = r$k,
      estimate = as.numeric(r$beta), se = r$se, stat = r$zval,
      df = if (test == "knha") r$k - 1 else Inf, p = r$pval,
      lo = r$ci.lb, hi = r$ci.ub, pi_lo = pr$pi.lb, pi_hi = pr$pi.ub,
      tau2 = r$tau2, se_tau2 = r$se.tau2,
      tau2_lo = ci["tau^2", "ci.lb"], tau2_hi = ci["tau^2", "ci.ub"],
      i2 = r$I2, i2_lo = ci["I^2(%)", "ci.lb"], i2_hi = ci["I^2(%)", "ci.ub"],
      h2 = r$H2, h2_lo = ci["H^2", "ci.lb"], h2_hi = ci["H^2", "ci.ub"],
      q = r$QE, q_p = r$QEp, w1 = w[1], wk = w[length(w)])
  }
}
write_fix(do.call(rbind, rows), "rma.csv")

# ---- pooling per-centre AUCs (logit) and O/E (log) ----------------------
# Rotterdam tumour bank: "centres" are the years of surgery (1978-1993),
# grouped so that each has at least 100 patients. Score: number of nodes
# for recurrence (pROC's AUC and DeLong SE, independently of sylva).
# O/E: a logistic model of recurrence on age, nodes and grade fitted on
# all patients; per centre O = events, E = sum of predicted risks.
rot <- read.csv("tests/fixtures/data/rotterdam.csv")
rot$centre <- cut(rot$year, c(1977, 1984, 1986, 1988, 1990, 1991, 1993), labels = FALSE)
fit <- glm(recur ~ age + nodes + grade, family = binomial, data = rot)
rot$risk <- fitted(fit)
cen <- sort(unique(rot$centre))
per <- do.call(rbind, lapply(cen, function(c) {
  d <- rot[rot$centre == c, ]
  r <- roc(d$recur, d$nodes, levels = c(0, 1), direction = "<", quiet = TRUE)
  data.frame(centre = c, n = nrow(d), auc = as.numeric(auc(r)),
             se = sqrt(var(r, method = "delong")), o = sum(d$recur), e = sum(d$risk))
}))
write_fix(per, "centres_rotterdam.csv")
pool <- list()
for (test in c("z", "knha")) {
  ya <- qlogis(per$auc); va <- per$se^2 / (per$auc * (1 - per$auc))^2
  ra <- rma(ya, va, method = "REML", test = test); pa <- predict(ra, transf = plogis)
  yo <- log(per$o / per$e)
  for (withn in c(TRUE, FALSE)) {
    vo <- if (withn) (1 - per$o / per$n) / per$o else 1 / per$o
    ro <- rma(yo, vo, method = "REML", test = test); po <- predict(ro, transf = exp)
    pool[[length(pool) + 1]] <- data.frame(
      test = test, with_n = as.integer(withn),
      auc = pa$pred, auc_lo = pa$ci.lb, auc_hi = pa$ci.ub, auc_pi_lo = pa$pi.lb,
      auc_pi_hi = pa$pi.ub, auc_tau2 = ra$tau2, auc_i2 = ra$I2,
      oe = po$pred, oe_lo = po$ci.lb, oe_hi = po$ci.ub, oe_pi_lo = po$pi.lb,
      oe_pi_hi = po$pi.ub, oe_tau2 = ro$tau2, oe_i2 = ro$I2)
  }
}
write_fix(do.call(rbind, pool), "pool.csv")
cat("metafor", as.character(packageVersion("metafor")), "pROC", as.character(packageVersion("pROC")), "\n")
