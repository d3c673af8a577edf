# survforest_ranger.R - the ranger peer of bench_survforest.lua: reads the
# same train/test CSVs, trains ranger(splitrule = "logrank") and predicts
# S(t) at ntimes times of its grid for the test rows. Prints the same lines
# as survforest_sylva.lua ("time train", "time predict", "mem peak" from
# /proc/self/status VmHWM, and checks).
#   Rscript survforest_ranger.R train.csv test.csv threads trees ntimes
suppressMessages({ library(ranger); library(survival) })
a <- commandArgs(TRUE)
tr <- read.csv(a[1]); te <- read.csv(a[2])
threads <- as.integer(a[3]); trees <- as.integer(a[4]); ntimes <- as.integer(a[5])
t0 <- proc.time()[["elapsed"]]
rf <- ranger(Surv(time, event) ~ ., data = tr, num.trees = trees, splitrule = "logrank",
             num.threads = threads, seed = 1)
t1 <- proc.time()[["elapsed"]]
grid <- rf$unique.death.times
times <- grid[pmax(1, floor(length(grid) * (1:ntimes) / (ntimes + 1)))]
t2 <- proc.time()[["elapsed"]]
p <- predict(rf, te, num.threads = threads)
idx <- findInterval(times, p$unique.death.times)
S <- p$survival[, idx, drop = FALSE]
t3 <- proc.time()[["elapsed"]]
st <- readLines("/proc/self/status")
hwm <- as.numeric(sub("VmHWM:\\s+(\\d+).*", "\\1", st[grep("^VmHWM", st)]))
cat(sprintf("time train %.6f\n", t1 - t0))
cat(sprintf("time predict %.6f\n", t3 - t2))
cat(sprintf("mem peak %.1f\n", hwm / 1024))
cat(sprintf("check mean_S_mid %.6f\n", mean(S[, floor(ntimes / 2)])))
risk <- rowSums(p$chf)
cat(sprintf("check test_C %.6f\n", concordance(Surv(te$time, te$event) ~ risk, reverse = TRUE)$concordance))
