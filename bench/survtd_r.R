# survtd_r.R - the R peer of bench/bench_survtd.lua: reads the CSV the Lua
# benchmark wrote (time, event, marker) and times riskRegression::Score
# (metrics = "auc", cens.model = "km", se.fit = TRUE) at the times given
# on the command line; reading the file is not timed. Prints
# "time auc_t <seconds>" (best of `reps`), the peak memory R's gc saw
# ("mem auc_t <MB>") and the AUC and SE at the first and last time.
#   Rscript bench/survtd_r.R data.csv reps t1 t2 ...
suppressMessages({ library(survival); library(riskRegression) })
args <- commandArgs(TRUE)
d <- read.csv(args[1], colClasses = "numeric")
reps <- as.integer(args[2])
times <- as.numeric(args[-(1:2)])
n <- nrow(d)
best <- Inf
invisible(gc(reset = TRUE))
for (i in seq_len(reps)) {
  t0 <- proc.time()[["elapsed"]]
  sc <- Score(list(m = matrix(d$marker, n, length(times))), formula = Surv(time, event) ~ 1,
              data = d, times = times, metrics = "auc", cens.model = "km", se.fit = TRUE,
              null.model = FALSE)
  best <- min(best, proc.time()[["elapsed"]] - t0)
}
g <- gc()
cat("time auc_t", best, "\n")
cat("mem auc_t", sum(g[, ncol(g)]), "\n")
a <- sc$AUC$score
k <- length(times)
cat("check auc_first", sprintf("%.17g", a$AUC[1]), "\n")
cat("check se_first", sprintf("%.17g", a$se[1]), "\n")
cat("check auc_last", sprintf("%.17g", a$AUC[k]), "\n")
cat("check se_last", sprintf("%.17g", a$se[k]), "\n")
