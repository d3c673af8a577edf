# survforest_ranger.R - the ranger oracle of sv.forest.survival: writes
# tests/fixtures/survforest/, which tests/lua/test_survforest.lua compares
# against (CI never runs R). Run from the repository root:
#   Rscript tests/oracle/survforest_ranger.R
# ranger 0.14.1, splitrule = "logrank".
# 1. One tree grown deterministically (no bootstrap, sample.fraction = 1,
#    mtry = p) on gbsg, lung and a rotterdam subset, min.node.size 3 and 10:
#    its splits (variable, value) and each training row's cumulative hazard
#    at a few times and its mortality (the sum of the CHF over the grid) -
#    the same tree gives the same numbers - with a flag for the rows below
#    a node whose best statistic ties between two partitions.
# 2. Forests of 300 trees over 5 seeds: ranger's OOB C (1 - prediction.error)
#    per seed, to compare with sylva's within the seed-to-seed noise.
suppressMessages({ library(ranger); library(survival) })
out <- "tests/fixtures/survforest"
dir.create(out, showWarnings = FALSE, recursive = TRUE)
fmt <- function(x) ifelse(is.na(x), "NA", sprintf("%.17g", x))
write_table <- function(df, file) {
  for (j in seq_along(df)) if (is.numeric(df[[j]])) df[[j]] <- fmt(df[[j]])
  write.csv(df, file.path(out, file), row.names = FALSE, quote = FALSE)
}
gbsg <- read.csv("tests/fixtures/data/gbsg.csv")
rott <- read.csv("tests/fixtures/data/rotterdam.csv")
lung <- survival::lung
lung <- lung[complete.cases(lung[, c("time", "status", "age", "sex", "ph.ecog", "ph.karno", "wt.loss")]), ]
lung$event <- lung$status - 1
set.seed(7)
rsub <- rott[sort(sample(nrow(rott), 800)), ]
cohorts <- list(
  gbsg = list(d = gbsg, time = "rfstime", event = "status",
              x = c("age", "meno", "size", "grade", "nodes", "pgr", "er", "hormon")),
  lung = list(d = lung, time = "time", event = "event",
              x = c("age", "sex", "ph.ecog", "ph.karno", "wt.loss")),
  rott = list(d = rsub, time = "rtime", event = "recur",
              x = c("age", "meno", "grade", "nodes", "pgr", "er", "hormon", "chemo")))
# The log-rank statistic of every candidate split of a node (ranger's
# formula over the node's death times while at least 2 are at risk); a
# node is "tied" when its best statistic is reached (to 1e-12) by two
# different partitions: ranger then takes the first in its random variable
# order, which sylva cannot reproduce, so the rows below such a node are
# not compared.
node_tied <- function(dd, idx, vars, mns) {
  t <- dd$time[idx]; e <- dd$event[idx]; n <- length(idx)
  if (n < 2 * mns) return(FALSE)
  ut <- sort(unique(t[e == 1]))
  Y <- sapply(ut, function(u) sum(t >= u))
  D <- sapply(ut, function(u) sum(t == u & e == 1))
  keep <- cumsum(Y < 2) == 0
  ut <- ut[keep]; Y <- Y[keep]; D <- D[keep]
  if (length(ut) == 0) return(FALSE)
  atrisk <- outer(t, ut, ">=")          # n x deaths
  dies <- outer(t, ut, "==") & (e == 1)
  best <- -1; parts <- character(0)
  for (v in vars) {
    x <- dd[idx, v]; vals <- sort(unique(x))
    if (length(vals) < 2) next
    for (j in seq_len(length(vals) - 1)) {
      right <- x > vals[j]
      if (sum(right) < mns || sum(!right) < mns) next
      YR <- colSums(atrisk[right, , drop = FALSE]); DR <- colSums(dies[right, , drop = FALSE])
      num <- sum(DR - YR * D / Y)
      den <- sum((YR / Y) * (1 - YR / Y) * ((Y - D) / (Y - 1)) * D)
      if (den == 0) next
      st <- abs(num) / sqrt(den)
      key <- paste(which(right), collapse = ",")
      if (st > best * (1 + 1e-12)) { best <- st; parts <- key }
      else if (st >= best * (1 - 1e-12)) parts <- unique(c(parts, key))
    }
  }
  length(parts) > 1
}

splits <- list(); preds <- list(); oob <- list()
for (cn in names(cohorts)) {
  co <- cohorts[[cn]]
  dd <- data.frame(time = co$d[[co$time]], event = co$d[[co$event]], co$d[, co$x])
  write_table(dd, sprintf("%s_data.csv", cn))
  grid <- sort(unique(dd$time))
  at <- grid[round(seq(1, length(grid), length.out = 6))]
  for (mns in c(3, 10)) {
    rf <- ranger(Surv(time, event) ~ ., data = dd, num.trees = 1, mtry = length(co$x),
                 replace = FALSE, sample.fraction = 1, min.node.size = mns,
                 splitrule = "logrank", seed = 1, num.threads = 1)
    stopifnot(all(rf$unique.death.times == grid))
    ti <- treeInfo(rf, 1)
    # each row's path; a row below a tied node is flagged
    memb <- vector("list", nrow(ti)); memb[[1]] <- seq_len(nrow(dd))
    tied_row <- rep(FALSE, nrow(dd))
    for (k in seq_len(nrow(ti))) {
      r <- ti[k, ]
      idx <- memb[[r$nodeID + 1]]
      if (r$terminal) next
      if (node_tied(dd, idx, co$x, mns)) tied_row[idx] <- TRUE
      x <- dd[idx, r$splitvarName]
      memb[[r$leftChild + 1]] <- idx[x <= r$splitval]
      memb[[r$rightChild + 1]] <- idx[x > r$splitval]
    }
    ti <- ti[!ti$terminal, ]
    splits[[paste(cn, mns)]] <- data.frame(cohort = cn, min_leaf = mns, variable = ti$splitvarName,
                                           value = ti$splitval)
    p <- predict(rf, dd)
    chf <- p$chf
    idx <- match(at, grid)
    pr <- data.frame(cohort = cn, min_leaf = mns, row = seq_len(nrow(dd)), tied = as.integer(tied_row),
                     mortality = rowSums(chf))
    for (k in seq_along(at)) { pr[[paste0("t", k)]] <- at[k]; pr[[paste0("chf", k)]] <- chf[, idx[k]] }
    preds[[paste(cn, mns)]] <- pr
  }
  for (seed in 1:5) {
    rf <- ranger(Surv(time, event) ~ ., data = dd, num.trees = 300, splitrule = "logrank",
                 seed = seed, num.threads = 1)
    oob[[paste(cn, seed)]] <- data.frame(cohort = cn, seed = seed, c = 1 - rf$prediction.error)
  }
}
write_table(do.call(rbind, splits), "tree_splits.csv")
write_table(do.call(rbind, preds), "tree_predictions.csv")
write_table(do.call(rbind, oob), "oob_c.csv")
cat("ranger", as.character(packageVersion("ranger")), "\n")
