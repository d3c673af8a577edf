# diag_r.R - the pROC side of bench/bench_diag.lua. Arguments: a CSV with
# columns y, score (the large set) and the number of leading rows used for
# the bootstrap. Prints two lines:
#   delong <seconds> <auc> <lo> <hi>
#   boot <seconds> <lo> <hi>
# Times exclude reading the file; roc() is included because pROC needs the
# curve object before ci.auc.
suppressMessages(library(pROC))
a <- commandArgs(trailingOnly = TRUE)
d <- read.csv(a[1])
nb <- as.integer(a[2])
t <- system.time({
  r <- roc(d$y, d$score, levels = c(0, 1), direction = "<", quiet = TRUE)
  ci <- ci.auc(r, method = "delong")
})[["elapsed"]]
cat(sprintf("delong %.6f %.17g %.17g %.17g\n", t, ci[2], ci[1], ci[3]))
y <- d$y[1:nb]; s <- d$score[1:nb]
set.seed(1)
t <- system.time({
  r <- roc(y, s, levels = c(0, 1), direction = "<", quiet = TRUE)
  ci <- ci.auc(r, method = "bootstrap", boot.n = 2000, boot.stratified = TRUE, progress = "none")
})[["elapsed"]]
cat(sprintf("boot %.6f %.17g %.17g\n", t, ci[1], ci[3]))
