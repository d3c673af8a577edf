# centres_r.R - fixtures for sv.centres on the Rotterdam tumour bank with the
# years of surgery grouped into six pseudo-centres (as tests/oracle/meta_r.R):
# standardised mean differences (Austin 2009's formula written out), an
# internal-external cross-validation of a logistic model (glm, pROC's DeLong
# AUC, glm calibration slope and offset intercept, metafor's pooling), and
# the updating of a model for a new centre (glm with an offset, likelihood-
# ratio tests, Vergouwe et al. 2017's closed test). Run from the repository
# root:  Rscript tests/oracle/centres_r.R
suppressMessages({library(metafor); library(pROC)})
out <- "tests/fixtures/centres"
dir.create(out, showWarnings = FALSE, recursive = TRUE)
num <- function(x) { s <- sprintf("%.17g", x); s[is.infinite(x) & x > 0] <- "1e999"; s[is.na(x)] <- "NA"; s }
write_fix <- function(df, name) {
  for (j in seq_along(df)) if (is.numeric(df[[j]])) df[[j]] <- num(df[[j]])
  write.csv(df, file.path(out, name), row.names = FALSE, quote = FALSE)
}
rot <- read.csv("tests/fixtures/data/rotterdam.csv")
rot$centre <- cut(rot$year, c(1977, 1984, 1986, 1988, 1990, 1991, 1993), labels = FALSE)

# ---- SMD, every pair of centres ----------------------------------------
smd <- function(a, b, binary) {
  va <- if (binary) mean(a) * (1 - mean(a)) else var(a)
  vb <- if (binary) mean(b) * (1 - mean(b)) else var(b)
  (mean(a) - mean(b)) / sqrt((va + vb) / 2)
}
rows <- list()
for (f in c("age", "nodes", "pgr", "er", "meno", "hormon")) {
  binary <- all(rot[[f]] %in% c(0, 1))
  for (a in 1:5) for (b in (a + 1):6)
    rows[[length(rows) + 1]] <- data.frame(feature = f, a = a, b = b, binary = as.integer(binary),
      smd = smd(rot[[f]][rot$centre == a], rot[[f]][rot$centre == b], binary))
}
write_fix(do.call(rbind, rows), "smd.csv")

# ---- IECV of glm(recur ~ age + nodes + grade + pgr) ---------------------
rot$pred <- NA
for (c in 1:6) {
  fit <- glm(recur ~ age + nodes + grade + pgr, family = binomial, data = rot[rot$centre != c, ])
  rot$pred[rot$centre == c] <- predict(fit, rot[rot$centre == c, ], type = "response")
}
per <- do.call(rbind, lapply(1:6, function(c) {
  d <- rot[rot$centre == c, ]
  r <- roc(d$recur, d$pred, levels = c(0, 1), direction = "<", quiet = TRUE)
  ci <- ci.auc(r, method = "delong")
  lp <- qlogis(d$pred)
  s <- summary(glm(d$recur ~ lp, family = binomial))$coefficients
  i <- summary(glm(d$recur ~ 1 + offset(lp), family = binomial))$coefficients
  data.frame(centre = c, n = nrow(d), events = sum(d$recur), expected = sum(d$pred),
             auc = as.numeric(auc(r)), auc_lo = ci[1], auc_hi = ci[3],
             auc_se = sqrt(var(r, method = "delong")),
             slope = s[2, 1], slope_se = s[2, 2], citl = i[1, 1], citl_se = i[1, 2])
}))
per$oe <- per$events / per$expected
write_fix(per, "iecv_centres.csv")
pool <- function(y, v, transf) {
  r <- rma(y, v, method = "REML", test = "knha"); p <- predict(r, transf = transf)
  c(est = p$pred, lo = p$ci.lb, hi = p$ci.ub, pi_lo = p$pi.lb, pi_hi = p$pi.ub, tau2 = r$tau2, i2 = r$I2)
}
pooled <- rbind(
  auc = pool(qlogis(per$auc), per$auc_se^2 / (per$auc * (1 - per$auc))^2, plogis),
  oe = pool(log(per$oe), (1 - per$events / per$n) / per$events, exp),
  slope = pool(per$slope, per$slope_se^2, identity),
  citl = pool(per$citl, per$citl_se^2, identity))
write_fix(data.frame(measure = rownames(pooled), pooled), "iecv_pooled.csv")

# ---- updating for a new centre ------------------------------------------
# the model of centres 1-3 applied to each later centre; and, to reach the
# other branches of the test, to centre 6 with its linear predictor doubled
# (an overfitted model: recalibration) and to its own development rows
# (perfectly calibrated in the large and in slope: no update)
dev <- glm(recur ~ age + nodes + grade + pgr, family = binomial, data = rot[rot$centre <= 3, ])
cases <- list(list(4, 1), list(5, 1), list(6, 1), list(6, 2), list(0, 1))
upd <- do.call(rbind, lapply(cases, function(cs) {
  c <- cs[[1]]; k <- cs[[2]]
  d <- if (c == 0) rot[rot$centre <= 3, ] else rot[rot$centre == c, ]
  lp <- k * predict(dev, d); p <- plogis(lp)
  ll0 <- sum(d$recur * log(p) + (1 - d$recur) * log(1 - p))
  m1 <- glm(d$recur ~ 1 + offset(lp), family = binomial)
  m2 <- glm(d$recur ~ lp, family = binomial)
  lr2 <- 2 * (as.numeric(logLik(m2)) - ll0); lr21 <- 2 * (as.numeric(logLik(m2)) - as.numeric(logLik(m1)))
  lr1 <- 2 * (as.numeric(logLik(m1)) - ll0)
  p2 <- pchisq(lr2, 2, lower.tail = FALSE); p21 <- pchisq(lr21, 1, lower.tail = FALSE)
  choice <- if (p2 >= 0.05) "none" else if (p21 < 0.05) "recalibration" else "intercept"
  data.frame(centre = c, factor = k, ll0 = ll0, ll1 = as.numeric(logLik(m1)), ll2 = as.numeric(logLik(m2)),
             a1 = coef(m1)[1], a2 = coef(m2)[1], b2 = coef(m2)[2], lr2 = lr2, p2 = p2,
             lr21 = lr21, p21 = p21, lr1 = lr1, p1 = pchisq(lr1, 1, lower.tail = FALSE), choice = choice)
}))
write_fix(upd, "update.csv")
print(upd[, c("centre", "choice", "p2", "p21")])
