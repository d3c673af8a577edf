# surv_time0_r.R - R's survival on data with time 0 (patients censored or
# dying on the day of diagnosis), the oracle of tests/lua/test_surv_time0.lua.
# Writes tests/fixtures/surv/time0_data.csv (the data) and
# tests/fixtures/surv/time0_scalars.csv (key,value; NA for NA).
# Run from the repository root: Rscript tests/oracle/surv_time0_r.R
suppressMessages(library(survival))
set.seed(20261202)
n <- 40
time <- round(rexp(n, 1 / 8))
time[1:5] <- 0                 # three deaths and two censorings at time 0
status <- rbinom(n, 1, 0.7)
status[1:5] <- c(1, 1, 1, 0, 0)
group <- rep(c(1, 2), length.out = n)
x <- round(rnorm(n) + 0.5 * (group == 2), 3)
d <- data.frame(time = time, status = status, group = group, x = x)
write.csv(d, "tests/fixtures/surv/time0_data.csv", row.names = FALSE)

out <- list()
put <- function(k, v) out[[k]] <<- v
fit <- survfit(Surv(time, status) ~ 1, data = d)
put("km.nrow", length(fit$time))
for (k in seq_along(fit$time)) {
  put(sprintf("km.time.%d", k), fit$time[k])
  put(sprintf("km.n_risk.%d", k), fit$n.risk[k])
  put(sprintf("km.n_event.%d", k), fit$n.event[k])
  put(sprintf("km.n_censor.%d", k), fit$n.censor[k])
  put(sprintf("km.surv.%d", k), fit$surv[k])
  put(sprintf("km.std_err.%d", k), fit$std.err[k])
  put(sprintf("km.lower.%d", k), fit$lower[k])
  put(sprintf("km.upper.%d", k), fit$upper[k])
}
tab <- summary(fit)$table
put("km.median", tab[["median"]])
put("km.median_lo", tab[["0.95LCL"]])
put("km.median_hi", tab[["0.95UCL"]])
rm <- survival:::survmean(fit, rmean = 10)$matrix
put("km.rmst10", rm[["rmean"]])

sd <- survdiff(Surv(time, status) ~ group, data = d)
put("lr.chisq", sd$chisq)
put("lr.obs.1", sd$obs[1]); put("lr.obs.2", sd$obs[2])
put("lr.exp.1", sd$exp[1]); put("lr.exp.2", sd$exp[2])

for (ties in c("efron", "breslow")) {
  cf <- coxph(Surv(time, status) ~ x + group, data = d, ties = ties)
  put(sprintf("cox.%s.coef.1", ties), coef(cf)[[1]])
  put(sprintf("cox.%s.coef.2", ties), coef(cf)[[2]])
  put(sprintf("cox.%s.se.1", ties), sqrt(diag(vcov(cf)))[[1]])
  put(sprintf("cox.%s.se.2", ties), sqrt(diag(vcov(cf)))[[2]])
  put(sprintf("cox.%s.loglik.1", ties), cf$loglik[1])
  put(sprintf("cox.%s.loglik.2", ties), cf$loglik[2])
}
v <- vapply(out, function(z) if (is.na(z)) "NA" else sprintf("%.17g", z), "")
write.csv(data.frame(key = names(out), value = v), "tests/fixtures/surv/time0_scalars.csv",
          row.names = FALSE, quote = FALSE)
