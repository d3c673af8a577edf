# study_r.R - the HER2 study of examples/her2/study.lua written with R's
# usual packages (ranger, pROC, survival), as the peer of bench/bench_study.lua.
# Same data, same encoding, same 7:3 split rule, same grid and 5-fold CV, same
# number of trees (500), same evaluation and survival analysis; no SHAP (R has no
# exact TreeSHAP for ranger forests in Debian), so feature selection uses
# ranger's permutation importance in its place.
#   Rscript bench/study_r.R [datadir] [trees] [threads]
suppressMessages({library(ranger); library(pROC); library(survival)})
args <- commandArgs(TRUE)
dir <- if (length(args) >= 1) args[1] else "examples/her2/data"
trees <- if (length(args) >= 2) as.integer(args[2]) else 500L
threads <- if (length(args) >= 3) as.integer(args[3]) else 2L
t0 <- Sys.time()

# ---- encode both centres onto one feature set (as encodings/center*.lua) ----
na1 <- c(""); na2 <- c("", "NA", "n/a")
c1 <- read.csv(file.path(dir, "center1.csv"), na.strings = na1, stringsAsFactors = FALSE)
c2 <- read.csv(file.path(dir, "center2.csv"), na.strings = na2, stringsAsFactors = FALSE)
onehot <- function(x, lv, prefix) {
  m <- sapply(lv, function(l) as.numeric(tolower(x) == l)); colnames(m) <- paste0(prefix, "_", lv); m }
enc <- function(age, post, size, fgt, bpe, nonmass, shape, margin, enh, tic, t2, adc, edema,
                multi, ln, skin, nipple) {
  shape[tolower(shape) == "non-mass"] <- "nme"; margin[tolower(margin) == "non-mass"] <- "nme"
  data.frame(age = age, postmenopausal = post, size_mm = size, fgt = fgt, bpe = bpe,
             onehot(shape, c("oval", "round", "irregular", "nme"), "shape"),
             onehot(margin, c("circumscribed", "irregular", "spiculated", "nme"), "margin"),
             onehot(enh, c("homogeneous", "heterogeneous", "rim"), "enhancement"),
             tic = tic, t2 = t2, adc = adc, edema = edema, multifocal = multi,
             lymph_nodes = ln, skin = skin, nipple = nipple)
}
X1 <- with(c1, enc(age, as.numeric(menopause == "post"), tumor_size_mm, match(fgt, letters[1:4]),
  match(bpe, c("minimal", "mild", "moderate", "marked")), as.numeric(lesion_type == "non-mass"),
  shape, margin, ifelse(is.na(internal_enhancement), NA, internal_enhancement),
  match(tic_type, c("I", "II", "III")), match(t2_signal, c("hypo", "iso", "hyper")), adc,
  ifelse(is.na(peritumoral_edema), NA, as.numeric(peritumoral_edema == "yes")),
  as.numeric(multifocal == "yes"), as.numeric(axillary_ln == "positive"),
  as.numeric(skin_change == "yes"), as.numeric(nipple_change == "yes")))
her1 <- c1$her2_status; dfs1 <- c1$dfs_months; ev1 <- c1$dfs_event
X2 <- with(c2, enc(Age, as.numeric(Menopausal_status == "postmenopausal"), Size_cm * 10, FGT, BPE,
  as.numeric(Lesion == "NME"), Shape, Margin, Enhancement, TIC,
  match(T2, c("low", "iso", "high")), ADC_1e6 / 1000,
  ifelse(is.na(Peritumoral_edema), NA, as.numeric(Peritumoral_edema == "Y")),
  Multifocal, as.numeric(ALN == "Yes"), as.numeric(Skin == "Y"), as.numeric(Nipple == "Y")))
her2 <- ifelse(c2$HER2 %in% c("3+", "2+/ISH+"), "positive", ifelse(c2$HER2 %in% c("1+", "2+/ISH-"), "low", "zero"))
dfs2 <- c2$DFS_days / 30.4375; ev2 <- as.numeric(c2$Recurrence == "Y")

impute_fit <- function(X) lapply(X, function(v) {
  v <- v[!is.na(v)]; if (length(unique(v)) <= 4) as.numeric(names(which.max(table(v)))) else median(v) })
impute_apply <- function(X, st) { for (j in names(X)) X[[j]][is.na(X[[j]])] <- st[[j]]; X }

strat_split <- function(y, frac, seed) {
  set.seed(seed); idx <- unlist(lapply(split(seq_along(y), y), function(i) i[sample.int(length(i), round(frac * length(i)))]))
  sort(idx) }
folds_of <- function(y, k, seed) {
  set.seed(seed); f <- integer(length(y))
  for (cl in unique(y)) { i <- which(y == cl); f[i] <- sample(rep_len(seq_len(k), length(i))) }; f }
fit <- function(X, y, o) ranger(x = X, y = factor(y, levels = 0:1), probability = TRUE, num.trees = trees,
  mtry = o$mtry, min.node.size = o$min_leaf, num.threads = threads, seed = 1,
  importance = if (isTRUE(o$imp)) "permutation" else "none")
pred <- function(m, X) predict(m, X, num.threads = threads)$predictions[, "1"]
cv_auc <- function(X, y, o, folds) {
  s <- numeric(length(y))
  for (k in sort(unique(folds))) { m <- fit(X[folds != k, , drop = FALSE], y[folds != k], o); s[folds == k] <- pred(m, X[folds == k, , drop = FALSE]) }
  as.numeric(auc(y, s, direction = "<", quiet = TRUE)) }
grid <- expand.grid(mtry = c(2, 4, 6), min_leaf = c(5, 10, 20))

run_task <- function(name, keep1, y1, keep2, y2) {
  Xa <- X1[keep1, ]; ya <- y1[keep1]; Xe <- X2[keep2, ]; ye <- y2[keep2]
  tr <- strat_split(ya, 0.7, 42); te <- setdiff(seq_along(ya), tr)
  st <- impute_fit(Xa[tr, ]); Xa <- impute_apply(Xa, st); Xe <- impute_apply(Xe, st)
  folds <- folds_of(ya[tr], 5, 43)
  cv <- sapply(seq_len(nrow(grid)), function(g) cv_auc(Xa[tr, ], ya[tr], list(mtry = grid$mtry[g], min_leaf = grid$min_leaf[g]), folds))
  best <- as.list(grid[which.max(cv), ])
  full <- fit(Xa[tr, ], ya[tr], c(best, imp = TRUE))
  rank <- names(sort(full$variable.importance, decreasing = TRUE))[1:12]
  # forward selection along the ranking, 3 x repeated 5-fold CV, keep adding
  # while the CV AUC improves by more than 0.005 (sv.select.forward, rule "tol")
  rfolds <- lapply(1:3, function(r) folds_of(ya[tr], 5, 100 + r))
  curve <- sapply(seq_along(rank), function(k) mean(sapply(rfolds, function(f)
    cv_auc(Xa[tr, rank[1:k], drop = FALSE], ya[tr], list(mtry = min(best$mtry, k), min_leaf = best$min_leaf), f))))
  steps <- which(diff(curve) <= 0.005)
  nsel <- if (length(steps)) steps[1] else length(curve); sel <- rank[1:nsel]
  final <- fit(Xa[tr, sel, drop = FALSE], ya[tr], list(mtry = min(best$mtry, nsel), min_leaf = best$min_leaf))
  sets <- list(training = list(X = Xa[tr, ], y = ya[tr]), internal = list(X = Xa[te, ], y = ya[te]), external = list(X = Xe, y = ye))
  s_tr <- final$predictions[, "1"]      # out-of-bag, as the sylva study
  cut <- coords(roc(ya[tr], s_tr, direction = "<", quiet = TRUE), "best", ret = "threshold")$threshold[1]
  res <- lapply(names(sets), function(s) {
    X <- sets[[s]]$X; y <- sets[[s]]$y
    if (s == "training") { p <- s_tr; pa <- full$predictions[, "1"] }
    else { p <- pred(final, X[, sel, drop = FALSE]); pa <- pred(full, X) }
    r <- roc(y, p, direction = "<", quiet = TRUE); ci <- ci.auc(r)
    t <- roc.test(r, roc(y, pa, direction = "<", quiet = TRUE))
    data.frame(task = name, set = s, auc = ci[2], lo = ci[1], hi = ci[3],
      sens = mean(p[y == 1] >= cut), spec = mean(p[y == 0] < cut), acc = mean((p >= cut) == (y == 1)), delong_p = t$p.value) })
  # survival: all patients of the task, split by the training cut-off
  sc <- c(s_tr, pred(final, Xa[te, sel, drop = FALSE]), pred(final, Xe[, sel, drop = FALSE]))
  d1 <- dfs1[keep1]; e1 <- ev1[keep1]
  tm <- c(d1[tr], d1[te], dfs2[keep2]); ev <- c(e1[tr], e1[te], ev2[keep2]); g <- as.numeric(sc >= cut)
  km <- survfit(Surv(tm, ev) ~ g); lr <- survdiff(Surv(tm, ev) ~ g); cx <- coxph(Surv(tm, ev) ~ g)
  list(table = do.call(rbind, res), logrank_p = 1 - pchisq(lr$chisq, 1), hr = exp(coef(cx)), selected = sel)
}
t1 <- run_task("task1", rep(TRUE, nrow(X1)), as.numeric(her1 == "positive"), rep(TRUE, nrow(X2)), as.numeric(her2 == "positive"))
n1 <- her1 != "positive"; n2 <- her2 != "positive"
t2 <- run_task("task2", n1, as.numeric(her1 == "low"), n2, as.numeric(her2 == "low"))
print(rbind(t1$table, t2$table), digits = 3, row.names = FALSE)
cat(sprintf("task1 selected: %s\nlog-rank p %.4f HR %.2f\n", paste(t1$selected, collapse = " "), t1$logrank_p, t1$hr))
cat(sprintf("task2 selected: %s\nlog-rank p %.4f HR %.2f\n", paste(t2$selected, collapse = " "), t2$logrank_p, t2$hr))
cat(sprintf("R study seconds: %.3f\n", as.numeric(difftime(Sys.time(), t0, units = "secs"))))
