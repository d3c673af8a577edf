# multiclass_r.R - fixtures for the several-class diagnostics (sv.roc.multiclass,
# sv.roc.ovr, sv.metrics.confusion, sv.calib.brier_multiclass,
# sv.calib.per_class) from R: pROC 1.18 multiclass.roc / roc / ci.auc, and
# base R for the confusion matrix, Brier score and binned calibration.
# Predicted probabilities come from multinomial logistic models (nnet's
# multinom) fitted on real data:
#   gbsg:  grade (1, 2, 3) from age, menopause, size, nodes, PgR, ER, hormon
#   rott:  tumour size ("<=20", "20-50", ">50") from age, menopause, nodes,
#          PgR, ER, grade, hormon (string labels)
#   iris:  species from the four measurements (nearly separable: ties at
#          probabilities that round to 0 and 1)
# Run from the repository root:  Rscript tests/oracle/multiclass_r.R
suppressMessages({library(pROC); library(nnet)})
out <- "tests/fixtures/multiclass"
dir.create(out, showWarnings = FALSE, recursive = TRUE)
gbsg <- read.csv("tests/fixtures/data/gbsg.csv")
rott <- read.csv("tests/fixtures/data/rotterdam.csv", check.names = FALSE)

sets <- list()
f <- multinom(factor(grade) ~ age + meno + size + nodes + pgr + er + hormon, data = gbsg, trace = FALSE)
sets$gbsg <- list(y = as.character(gbsg$grade), P = predict(f, type = "probs"))
rott$size <- factor(rott$size, levels = c("<=20", "20-50", ">50"))
f <- multinom(size ~ age + meno + nodes + pgr + er + grade + hormon, data = rott, trace = FALSE, maxit = 500)
sets$rott <- list(y = as.character(rott$size), P = predict(f, type = "probs"))
f <- multinom(Species ~ ., data = iris, trace = FALSE, maxit = 500)
sets$iris <- list(y = as.character(iris$Species), P = predict(f, type = "probs"))

vals <- list()
put <- function(key, v) vals[[length(vals) + 1]] <<- data.frame(key = key, value = v)
for (nm in names(sets)) {
  y <- sets[[nm]]$y; P <- sets[[nm]]$P; lev <- colnames(P); K <- length(lev)
  num <- apply(P, 2, function(col) sprintf("%.17g", col))
  lines <- c(paste0('"y",', paste0('"', lev, '"', collapse = ",")),
             paste0('"', y, '",', apply(num, 1, paste, collapse = ",")))
  writeLines(lines, file.path(out, paste0("pred_", nm, ".csv")))
  # re-read what the tests read, so both sides use the same doubles
  back <- read.csv(file.path(out, paste0("pred_", nm, ".csv")), check.names = FALSE,
                   colClasses = c("character", rep("numeric", K)))
  y <- back$y; P <- as.matrix(back[, -1]); colnames(P) <- lev
  yf <- factor(y, levels = lev)
  # Hand & Till's M and its pairs: A(i|j) = column i, A(j|i) = column j
  mr <- multiclass.roc(yf, P)
  put(paste0("mc.", nm, ".M"), as.numeric(auc(mr)))
  for (i in 1:(K - 1)) for (j in (i + 1):K) {
    r <- mr$rocs[[paste0(lev[i], "/", lev[j])]]
    put(sprintf("mc.%s.A.%d.%d", nm, i, j), as.numeric(auc(r[[1]])))
    put(sprintf("mc.%s.A.%d.%d", nm, j, i), as.numeric(auc(r[[2]])))
  }
  # one versus rest with DeLong intervals
  for (k in 1:K) {
    r <- roc(as.integer(y == lev[k]), P[, k], levels = c(0, 1), direction = "<", quiet = TRUE)
    ci <- ci.auc(r, method = "delong", conf.level = 0.95)
    put(sprintf("ovr.%s.%d.auc", nm, k), as.numeric(ci[2]))
    put(sprintf("ovr.%s.%d.lo", nm, k), as.numeric(ci[1]))
    put(sprintf("ovr.%s.%d.hi", nm, k), as.numeric(ci[3]))
    put(sprintf("ovr.%s.%d.var", nm, k), var(r, method = "delong"))
  }
  # confusion matrix of the most probable class (first on ties)
  pc <- max.col(P, ties.method = "first")
  tab <- table(factor(match(y, lev), levels = 1:K), factor(pc, levels = 1:K))
  for (t in 1:K) for (p in 1:K) put(sprintf("conf.%s.%d.%d", nm, t, p), tab[t, p])
  n <- length(y)
  for (k in 1:K) {
    tp <- tab[k, k]; fn <- sum(tab[k, ]) - tp; fp <- sum(tab[, k]) - tp; tn <- n - tp - fn - fp
    put(sprintf("conf.%s.%d.sens", nm, k), tp / (tp + fn))
    put(sprintf("conf.%s.%d.spec", nm, k), tn / (tn + fp))
    put(sprintf("conf.%s.%d.ppv", nm, k), tp / (tp + fp))
  }
  put(sprintf("conf.%s.accuracy", nm), sum(diag(tab)) / n)
  # Brier's multiclass score
  Y <- outer(match(y, lev), 1:K, "==") * 1
  put(sprintf("brier.%s", nm), mean(rowSums((P - Y)^2)))
  # per-class calibration: equal-width bins of [0, 1], right-closed, empty dropped
  for (k in 1:K) {
    p <- P[, k]; yk <- Y[, k]
    grp <- cut(p, seq(0, 1, length.out = 11), include.lowest = TRUE)
    kk <- table(grp); kk <- names(kk)[kk > 0]
    mp <- as.numeric(tapply(p, grp, mean)[kk]); ob <- as.numeric(tapply(yk, grp, mean)[kk])
    cnt <- as.numeric(table(grp)[kk])
    put(sprintf("calib.%s.%d.bins", nm, k), length(kk))
    for (b in seq_along(kk)) {
      put(sprintf("calib.%s.%d.%d.mean_predicted", nm, k, b), mp[b])
      put(sprintf("calib.%s.%d.%d.observed", nm, k, b), ob[b])
      put(sprintf("calib.%s.%d.%d.n", nm, k, b), cnt[b])
    }
    put(sprintf("calib.%s.%d.brier", nm, k), mean((p - yk)^2))
  }
}

# A bootstrap interval for M by the same method (each class resampled to its
# size, percentile interval, R's quantile type 7) with R's generator: sylva's
# interval must agree within Monte-Carlo error.
set.seed(20261202)
y <- sets$gbsg$y; P <- as.matrix(read.csv(file.path(out, "pred_gbsg.csv"), check.names = FALSE)[, -1])
lev <- colnames(P); idx <- split(seq_along(y), factor(y, levels = lev))
B <- 2000
Ms <- replicate(B, {
  rows <- unlist(lapply(idx, function(r) r[sample.int(length(r), length(r), replace = TRUE)]))
  as.numeric(auc(multiclass.roc(factor(y[rows], levels = lev), P[rows, ])))
})
put("boot.gbsg.lo", quantile(Ms, 0.025, names = FALSE))
put("boot.gbsg.hi", quantile(Ms, 0.975, names = FALSE))
put("boot.gbsg.sd", sd(Ms))
put("boot.gbsg.B", B)

v <- do.call(rbind, vals)
write.csv(data.frame(key = v$key, value = sprintf("%.17g", v$value)), file.path(out, "r.csv"),
          row.names = FALSE, quote = FALSE)
