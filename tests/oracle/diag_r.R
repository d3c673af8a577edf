# diag_r.R - fixtures for sv.roc, sv.stats, sv.metrics, sv.calib from R's
# pROC (1.18) and stats on the real cohorts. Run from the repository root:
#   Rscript tests/oracle/diag_r.R
# Writes tests/fixtures/diag/*.csv (numbers printed with 17 significant
# digits; infinities as +-1e999 so that Lua's tonumber reads them).
suppressMessages(library(pROC))
out <- "tests/fixtures/diag"
dir.create(out, showWarnings = FALSE, recursive = TRUE)
wdbc <- read.csv("tests/fixtures/data/wdbc.csv")
gbsg <- read.csv("tests/fixtures/data/gbsg.csv")
data <- list(wdbc = wdbc, gbsg = gbsg)

num <- function(x) {
  s <- sprintf("%.17g", x)
  s[is.infinite(x) & x > 0] <- "1e999"
  s[is.infinite(x) & x < 0] <- "-1e999"
  s[is.na(x)] <- "NA"
  s
}
write_fix <- function(df, name) {
  for (j in seq_along(df)) if (is.numeric(df[[j]])) df[[j]] <- num(df[[j]])
  write.csv(df, file.path(out, name), row.names = FALSE, quote = FALSE)
}
roc1 <- function(y, s) roc(y, s, levels = c(0, 1), direction = "<", quiet = TRUE)

# ---- AUC, DeLong SE and CI, Youden ------------------------------------
auc_cases <- list(
  c("wdbc", "malignant", "mean_concave_points"),
  c("wdbc", "malignant", "mean_radius"),
  c("wdbc", "malignant", "mean_texture"),
  c("wdbc", "malignant", "mean_fractal_dimension"),
  c("gbsg", "status", "nodes"),
  c("gbsg", "status", "pgr"),
  c("gbsg", "status", "size"),
  c("gbsg", "status", "age"))
rows <- list()
for (cs in auc_cases) {
  d <- data[[cs[1]]]
  r <- roc1(d[[cs[2]]], d[[cs[3]]])
  ci <- ci.auc(r, conf.level = 0.95, method = "delong")
  ci90 <- ci.auc(r, conf.level = 0.90, method = "delong")
  b <- coords(r, "best", ret = c("threshold", "sensitivity", "specificity"),
              best.method = "youden", transpose = FALSE)
  rows[[length(rows) + 1]] <- data.frame(
    data = cs[1], y = cs[2], score = cs[3], auc = as.numeric(auc(r)),
    se = sqrt(var(r, method = "delong")), lo = ci[1], hi = ci[3],
    lo90 = ci90[1], hi90 = ci90[3],
    youden_threshold = b$threshold[1], youden_sens = b$sensitivity[1],
    youden_spec = b$specificity[1],
    youden_j = b$sensitivity[1] + b$specificity[1] - 1, youden_ties = nrow(b))
}
write_fix(do.call(rbind, rows), "roc_auc.csv")

# ---- full curves --------------------------------------------------------
for (cs in list(c("gbsg", "status", "nodes"), c("wdbc", "malignant", "mean_radius"))) {
  d <- data[[cs[1]]]
  r <- roc1(d[[cs[2]]], d[[cs[3]]])
  write_fix(data.frame(threshold = r$thresholds, tpr = r$sensitivities,
                       fpr = 1 - r$specificities),
            sprintf("roc_curve_%s_%s.csv", cs[1], cs[3]))
}

# ---- paired DeLong tests ---------------------------------------------------
paired <- list(
  c("wdbc", "malignant", "mean_concave_points", "mean_radius"),
  c("wdbc", "malignant", "mean_texture", "mean_smoothness"),
  c("gbsg", "status", "nodes", "pgr"),
  c("gbsg", "status", "size", "nodes"))
rows <- list()
for (cs in paired) {
  d <- data[[cs[1]]]
  r1 <- roc1(d[[cs[2]]], d[[cs[3]]])
  r2 <- roc1(d[[cs[2]]], d[[cs[4]]])
  t <- roc.test(r1, r2, method = "delong", paired = TRUE)
  rows[[length(rows) + 1]] <- data.frame(
    data = cs[1], y = cs[2], s1 = cs[3], s2 = cs[4],
    auc1 = as.numeric(auc(r1)), auc2 = as.numeric(auc(r2)),
    z = unname(t$statistic), p = t$p.value)
}
write_fix(do.call(rbind, rows), "roc_paired.csv")

# ---- unpaired DeLong tests: cohorts are subsets named in the file ---------
# split "meno": gbsg rows with meno == 0 versus meno == 1;
# split "half": wdbc rows 1..284 versus 285..569.
rows <- list()
unp <- list(c("gbsg", "status", "nodes", "meno"), c("gbsg", "status", "pgr", "meno"),
            c("wdbc", "malignant", "mean_radius", "half"),
            c("wdbc", "malignant", "mean_texture", "half"))
for (cs in unp) {
  d <- data[[cs[1]]]
  g <- if (cs[4] == "meno") d$meno == 0 else seq_len(nrow(d)) <= 284
  r1 <- roc1(d[[cs[2]]][g], d[[cs[3]]][g])
  r2 <- roc1(d[[cs[2]]][!g], d[[cs[3]]][!g])
  t <- roc.test(r1, r2, method = "delong", paired = FALSE)
  rows[[length(rows) + 1]] <- data.frame(
    data = cs[1], y = cs[2], score = cs[3], split = cs[4],
    auc1 = as.numeric(auc(r1)), auc2 = as.numeric(auc(r2)),
    d = unname(t$statistic), df = unname(t$parameter), p = t$p.value)
}
write_fix(do.call(rbind, rows), "roc_unpaired.csv")

# ---- stratified bootstrap (Monte Carlo: compared in distribution) ---------
rows <- list()
for (cs in list(c("wdbc", "malignant", "mean_texture"), c("gbsg", "status", "nodes"))) {
  d <- data[[cs[1]]]
  r <- roc1(d[[cs[2]]], d[[cs[3]]])
  set.seed(20240601)
  ci <- ci.auc(r, method = "bootstrap", boot.n = 2000, boot.stratified = TRUE,
               progress = "none")
  set.seed(20240601)
  sd <- sqrt(var(r, method = "bootstrap", boot.n = 2000, progress = "none"))
  rows[[length(rows) + 1]] <- data.frame(data = cs[1], y = cs[2], score = cs[3],
                                         boot = 2000, lo = ci[1], hi = ci[3], sd = sd)
}
write_fix(do.call(rbind, rows), "roc_boot.csv")
