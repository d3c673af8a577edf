# forest_ranger.R - one benchmark run of ranger (probability forest,
# min.node.size = 1, mtry = floor(sqrt(p)): the same model as sv.forest's
# defaults), started by bench_forest.lua:
#   Rscript forest_ranger.R train.csv test.csv threads trees mode
# prints: RESULT train_wall train_cpu predict_wall predict_cpu auc
suppressMessages(library(ranger))
a <- commandArgs(trailingOnly = TRUE)
threads <- as.integer(a[3]); trees <- as.integer(a[4]); mode <- a[5]
rd <- function(path) {
  d <- if (requireNamespace("data.table", quietly = TRUE))
    as.data.frame(data.table::fread(path)) else read.csv(path)
  list(X = as.matrix(d[, names(d) != "y"]), y = d$y)
}
tr <- rd(a[1]); te <- rd(a[2])
if (mode == "load") { cat("RESULT 0 0 0 0 0\n"); quit(save = "no") }
auc <- function(y, s) {
  r <- rank(s); n1 <- sum(y == 1); n0 <- length(y) - n1
  (sum(r[y == 1]) - n1 * (n1 + 1) / 2) / (n1 * n0)
}
cpu <- function() { t <- proc.time(); t[[1]] + t[[2]] }
# modes k3 (3 classes, Hand-Till M) and reg (regression, R^2): bench_forest_kinds.lua
ht <- function(y, P) {
  s <- 0
  for (a in 0:1) for (b in (a + 1):2) {
    k <- y == a | y == b
    s <- s + (auc(as.integer(y[k] == a), P[k, a + 1]) + auc(as.integer(y[k] == a), -P[k, b + 1])) / 2
  }
  s / 3
}
w0 <- proc.time()[[3]]; c0 <- cpu()
if (mode == "reg") {
  m <- ranger(x = tr$X, y = tr$y, num.trees = trees, min.node.size = 1,
              mtry = floor(sqrt(ncol(tr$X))), num.threads = threads, seed = 1, verbose = FALSE)
} else {
  m <- ranger(x = tr$X, y = factor(tr$y), num.trees = trees, probability = TRUE,
              min.node.size = 1, mtry = floor(sqrt(ncol(tr$X))),
              num.threads = threads, seed = 1, verbose = FALSE)
}
w1 <- proc.time()[[3]]; c1 <- cpu()
pr <- predict(m, te$X, num.threads = threads)$predictions
w2 <- proc.time()[[3]]; c2 <- cpu()
score <- if (mode == "reg") 1 - sum((te$y - pr)^2) / sum((te$y - mean(te$y))^2) else
  if (mode == "k3") ht(te$y, pr[, c("0", "1", "2")]) else auc(te$y, pr[, "1"])
cat(sprintf("RESULT %.4f %.4f %.4f %.4f %.6f\n", w1 - w0, c1 - c0, w2 - w1, c2 - c1, score))
