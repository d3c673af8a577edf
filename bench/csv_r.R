# csv_r.R PATH REPEAT [fread] - times R's read.csv (or data.table::fread
# with the third argument) on PATH and prints "seconds rows cols" for the
# best of REPEAT runs (for bench_csv.lua).
args <- commandArgs(trailingOnly = TRUE)
path <- args[1]
repeat_n <- as.integer(args[2])
use_fread <- length(args) >= 3 && args[3] == "fread"
best <- Inf
for (i in seq_len(repeat_n)) {
  t0 <- proc.time()[["elapsed"]]
  d <- if (use_fread) data.table::fread(path, nThread = 1) else read.csv(path)
  best <- min(best, proc.time()[["elapsed"]] - t0)
}
cat(best, nrow(d), ncol(d), "\n")
