# validate_r.R - the pipeline of bench/bench_validate.lua written with R's
# usual packages (ranger + pROC + glm), as the peer of
# bench/validate_sylva.lua: the same optimism bootstrap loop and per
# replicate the same steps (3-fold CV grid over mtry 2, 3 x min.node.size
# 1, 5 with 100 trees; a 200-tree forest; features ranked by ranger's
# permutation importance in place of SHAP; the top 4 kept; the final
# 200-tree forest), AUC by pROC, Brier, calibration slope by glm. Prints
# "cpu_per_replicate <s>" (process CPU time of the B replicates / B).
#   Rscript bench/validate_r.R B threads
suppressMessages({library(ranger); library(pROC)})
args <- commandArgs(TRUE)
B <- if (length(args) >= 1) as.integer(args[1]) else 5L
threads <- if (length(args) >= 2) as.integer(args[2]) else 1L
d <- read.csv("tests/fixtures/data/gbsg.csv")
cols <- c("age", "meno", "size", "grade", "nodes", "pgr", "er", "hormon")
d$status <- factor(d$status, levels = c(0, 1))
n <- nrow(d)
auc1 <- function(y, p) as.numeric(auc(roc(y, p, levels = c(0, 1), direction = "<", quiet = TRUE)))
metrics <- function(y, p) {
  yy <- as.numeric(as.character(y))
  lp <- qlogis(pmin(pmax(p, 1e-12), 1 - 1e-12))
  c(auc = auc1(y, p), brier = mean((p - yy)^2),
    slope = unname(coef(glm(yy ~ lp, family = binomial))[2]))
}
pipeline <- function(rows) {
  dr <- d[rows, ]
  set.seed(1)
  fold <- sample(rep(1:3, length.out = nrow(dr)))
  best <- NULL; best_auc <- -Inf
  for (mtry in c(2, 3)) for (leaf in c(1, 5)) {
    s <- 0
    for (k in 1:3) {
      m <- ranger(x = dr[fold != k, cols], y = dr$status[fold != k], num.trees = 100, mtry = mtry,
                  min.node.size = leaf, probability = TRUE, num.threads = threads, seed = 1)
      s <- s + auc1(dr$status[fold == k], predict(m, dr[fold == k, cols], num.threads = threads)$predictions[, 2])
    }
    if (s / 3 > best_auc) { best_auc <- s / 3; best <- c(mtry, leaf) }
  }
  f <- ranger(x = dr[, cols], y = dr$status, num.trees = 200, mtry = best[1], min.node.size = best[2],
              probability = TRUE, importance = "permutation", num.threads = threads, seed = 2)
  keep <- names(sort(f$variable.importance, decreasing = TRUE))[1:4]
  ff <- ranger(x = dr[, keep], y = dr$status, num.trees = 200, mtry = min(best[1], 4),
               min.node.size = best[2], probability = TRUE, num.threads = threads, seed = 3)
  function(r) predict(ff, d[r, keep], num.threads = threads)$predictions[, 2]
}
all <- 1:n
p0 <- pipeline(all)(all)
app <- metrics(d$status, p0)
t0 <- proc.time()
set.seed(2024)
opt <- matrix(NA, B, 3)
for (b in 1:B) {
  rows <- sample.int(n, n, replace = TRUE)
  p <- pipeline(rows)(all)
  opt[b, ] <- metrics(d$status[rows], p[rows]) - metrics(d$status, p)
}
t1 <- proc.time() - t0
cat(sprintf("corrected AUC %.4f (apparent %.4f, optimism %.4f)\n", app[1] - mean(opt[, 1]), app[1], mean(opt[, 1])))
cat(sprintf("cpu_per_replicate %.4f\n", (t1[["user.self"]] + t1[["sys.self"]]) / B))
