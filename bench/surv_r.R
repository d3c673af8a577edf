# surv_r.R - the R peer of bench/bench_surv.lua: reads the CSV that the
# Lua benchmark wrote and times survfit, survdiff and coxph on it (only
# the fitting calls, best of three; reading the file is not timed). Prints one line per
# task: "time <task> <seconds>" and a few numbers to check agreement.
#   Rscript bench/surv_r.R data.csv
suppressMessages(library(survival))
args <- commandArgs(TRUE)
d <- read.csv(args[1], colClasses = "numeric")
# best of three, as the Lua side
tm <- function(expr) {
  e <- substitute(expr); best <- Inf
  for (i in 1:3) {
    t0 <- proc.time()[["elapsed"]]; v <- eval(e, parent.frame())
    best <- min(best, proc.time()[["elapsed"]] - t0)
  }
  list(v = v, s = best)
}
km <- tm(survfit(Surv(time, event) ~ 1, data = d))
cat("time km", km$s, "\n")
cat("check km_median", sprintf("%.17g", summary(km$v)$table["median"]), "\n")
lr <- tm(survdiff(Surv(time, event) ~ group, data = d))
cat("time logrank", lr$s, "\n")
cat("check logrank_chisq", sprintf("%.17g", lr$v$chisq), "\n")
fml <- as.formula(paste("Surv(time, event) ~", paste0("x", 1:10, collapse = " + ")))
cx <- tm(coxph(fml, data = d))
cat("time cox", cx$s, "\n")
cat("check cox_coef1", sprintf("%.17g", coef(cx$v)[1]), "\n")
cat("check cox_loglik", sprintf("%.17g", cx$v$loglik[2]), "\n")
