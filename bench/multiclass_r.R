# multiclass_r.R - the pROC side of bench/bench_multiclass.lua. Arguments: a
# CSV with columns y, a, b, c; the number of leading rows for the bootstrap;
# the number of replicates. Prints
#   M <seconds> <M>
#   boot <seconds> <lo> <hi>
# Times exclude reading the file. The bootstrap resamples each class to its
# size (as sylva does) and calls multiclass.roc on every replicate.
suppressMessages(library(pROC))
a <- commandArgs(trailingOnly = TRUE)
d <- read.csv(a[1], colClasses = c("character", "numeric", "numeric", "numeric"))
nb <- as.integer(a[2]); B <- as.integer(a[3])
P <- as.matrix(d[, 2:4])
t <- system.time(m <- as.numeric(auc(multiclass.roc(d$y, P))))[["elapsed"]]
cat(sprintf("M %.6f %.17g\n", t, m))
y <- d$y[1:nb]; Pb <- P[1:nb, ]
idx <- split(seq_along(y), y)
set.seed(1)
t <- system.time({
  Ms <- replicate(B, {
    rows <- unlist(lapply(idx, function(r) r[sample.int(length(r), length(r), replace = TRUE)]))
    as.numeric(auc(multiclass.roc(y[rows], Pb[rows, ])))
  })
})[["elapsed"]]
q <- quantile(Ms, c(0.025, 0.975), names = FALSE)
cat(sprintf("boot %.6f %.17g %.17g\n", t, q[1], q[2]))
