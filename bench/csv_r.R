# csv_r.R PATH REPEAT [fread] - times R's read.csv (or data.table::fread on
# one thread with the third argument) on PATH and prints "wall_seconds
# cpu_seconds rows cols", each the best of REPEAT runs (for bench_csv.lua).
args <- commandArgs(trailingOnly = TRUE)
path <- args[1]
repeat_n <- as.integer(args[2])
use_fread <- length(args) >= 3 && args[3] == "fread"
best_wall <- Inf
best_cpu <- Inf
for (i in seq_len(repeat_n)) {
  t0 <- proc.time()
  d <- if (use_fread) data.table::fread(path, nThread = 1) else read.csv(path)
  dt <- proc.time() - t0
  best_wall <- min(best_wall, dt[["elapsed"]])
  best_cpu <- min(best_cpu, dt[["user.self"]] + dt[["sys.self"]])
}
cat(best_wall, best_cpu, nrow(d), ncol(d), "\n")
