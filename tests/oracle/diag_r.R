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
  t90 <- roc.test(r1, r2, method = "delong", paired = TRUE, conf.level = 0.9)
  tl <- roc.test(r1, r2, method = "delong", paired = TRUE, alternative = "less")
  tg <- roc.test(r1, r2, method = "delong", paired = TRUE, alternative = "greater")
  rows[[length(rows) + 1]] <- data.frame(
    data = cs[1], y = cs[2], s1 = cs[3], s2 = cs[4],
    auc1 = as.numeric(auc(r1)), auc2 = as.numeric(auc(r2)),
    z = unname(t$statistic), p = t$p.value, lo = t$conf.int[1], hi = t$conf.int[2],
    lo90 = t90$conf.int[1], hi90 = t90$conf.int[2], p_less = tl$p.value, p_greater = tg$p.value)
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
  tl <- roc.test(r1, r2, method = "delong", paired = FALSE, alternative = "less")
  tg <- roc.test(r1, r2, method = "delong", paired = FALSE, alternative = "greater")
  rows[[length(rows) + 1]] <- data.frame(
    data = cs[1], y = cs[2], score = cs[3], split = cs[4],
    auc1 = as.numeric(auc(r1)), auc2 = as.numeric(auc(r2)),
    d = unname(t$statistic), df = unname(t$parameter), p = t$p.value,
    p_less = tl$p.value, p_greater = tg$p.value)
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

# ---- distribution functions (sv.stats.p*/q*), tails included -------------
dist <- list()
addd <- function(fn, a, lower, val) {
  a <- c(a, rep(NA, 4 - length(a)))
  dist[[length(dist) + 1]] <<- data.frame(fn = fn, a1 = a[1], a2 = a[2], a3 = a[3],
                                          a4 = a[4], lower = as.integer(lower), value = val)
}
for (x in c(-37, -30, -20, -10, -5, -3, -2, -1.9, -1.5, -0.5, 0, 0.3, 1, 1.89, 1.91, 2.5, 4, 8, 12, 25, 37))
  for (lo in c(TRUE, FALSE)) addd("pnorm", x, lo, pnorm(x, lower.tail = lo))
for (p in c(1e-300, 1e-100, 1e-20, 1e-10, 1e-5, 0.001, 0.025, 0.2, 0.5, 0.7, 0.975, 0.999999))
  for (lo in c(TRUE, FALSE)) addd("qnorm", p, lo, qnorm(p, lower.tail = lo))
for (df in c(1, 2, 3.5, 10, 30, 200, 1e4)) for (t in c(-50, -8, -3, -1, 0.2, 1.5, 4, 12, 1e3))
  for (lo in c(TRUE, FALSE)) addd("pt", c(t, df), lo, pt(t, df, lower.tail = lo))
for (df in c(1, 2, 3.5, 10, 30, 200, 1e4)) for (p in c(1e-12, 1e-6, 0.025, 0.3, 0.975))
  for (lo in c(TRUE, FALSE)) addd("qt", c(p, df), lo, qt(p, df, lower.tail = lo))
for (df in c(0.5, 1, 2, 3, 7, 20, 100, 1000, 1e5)) for (x in c(1e-5, 0.01, 0.5, 1, 3.84, 10, 50, 200, 1000, 1.01e5))
  for (lo in c(TRUE, FALSE)) addd("pchisq", c(x, df), lo, pchisq(x, df, lower.tail = lo))
for (df in c(1, 2, 5, 30, 500)) for (p in c(1e-10, 0.05, 0.5, 0.95))
  for (lo in c(TRUE, FALSE)) addd("qchisq", c(p, df), lo, qchisq(p, df, lower.tail = lo))
for (d in list(c(1, 1), c(2, 10), c(5, 3), c(10, 100), c(50, 7))) for (f in c(0.01, 0.5, 1, 3, 10, 100, 1e4))
  for (lo in c(TRUE, FALSE)) addd("pf", c(f, d), lo, pf(f, d[1], d[2], lower.tail = lo))
for (ab in list(c(0.5, 0.5), c(1, 3), c(20, 2), c(2.5, 200), c(300, 400))) for (x in c(1e-8, 0.01, 0.3, 0.5, 0.9, 0.999))
  for (lo in c(TRUE, FALSE)) addd("pbeta", c(x, ab), lo, pbeta(x, ab[1], ab[2], lower.tail = lo))
for (ab in list(c(1, 9), c(5, 16), c(20, 2), c(0.5, 30), c(300, 400), c(100, 1))) for (p in c(1e-10, 0.025, 0.5, 0.975))
  for (lo in c(TRUE, FALSE)) addd("qbeta", c(p, ab), lo, qbeta(p, ab[1], ab[2], lower.tail = lo))
for (np in list(c(10, 0.3), c(100, 0.01), c(1000, 0.5), c(50, 0.9)))
  for (k in unique(round(c(0, 1, np[1] * np[2] / 3, np[1] * np[2], np[1] * np[2] * 1.5, np[1] - 2)))) {
    for (lo in c(TRUE, FALSE)) addd("pbinom", c(k, np), lo, pbinom(k, np[1], np[2], lower.tail = lo))
    addd("dbinom", c(k, np), TRUE, dbinom(k, np[1], np[2]))
  }
for (h in list(c(10, 7, 8), c(100, 200, 50), c(30, 30, 30), c(500, 20, 40)))
  for (x in unique(round(seq(max(0, h[3] - h[2]), min(h[1], h[3]), length.out = 7)))) {
    for (lo in c(TRUE, FALSE)) addd("phyper", c(x, h), lo, phyper(x, h[1], h[2], h[3], lower.tail = lo))
    addd("dhyper", c(x, h), TRUE, dhyper(x, h[1], h[2], h[3]))
  }
for (mn in list(c(3, 4), c(10, 12), c(49, 49), c(1, 30)))
  for (q in unique(round(c(0, 1, mn[1] * mn[2] * c(0.1, 0.3, 0.5, 0.8)))))
    for (lo in c(TRUE, FALSE)) addd("pwilcox", c(q, mn), lo, pwilcox(q, mn[1], mn[2], lower.tail = lo))
for (nq in list(c(10, 20), c(30, 100), c(49, 600), c(5, 0)))
  for (lo in c(TRUE, FALSE)) addd("psignrank", nq[2:1], lo, psignrank(nq[2], nq[1], lower.tail = lo))
write_fix(do.call(rbind, dist), "dist.csv")

# ---- tests on the cohorts ---------------------------------------------------
# Each row names a case that tests/lua/test_stats.lua rebuilds the same way.
tests <- list()
addt <- function(case, t, est = c(NA, NA)) {
  ci <- if (is.null(t$conf.int)) c(NA, NA) else as.numeric(t$conf.int)
  tests[[length(tests) + 1]] <<- data.frame(
    case = case, statistic = if (is.null(t$statistic)) NA else unname(t$statistic),
    df = if (is.null(t$parameter)) NA else unname(t$parameter)[1],
    p = t$p.value, est1 = est[1], est2 = est[2], lo = ci[1], hi = ci[2])
}
g <- gbsg; w <- wdbc
# chi-square (Yates only applies to 2 x 2 tables)
addt("chisq_meno_status", chisq.test(table(g$meno, g$status)))
addt("chisq_meno_status_nocorrect", chisq.test(table(g$meno, g$status), correct = FALSE))
addt("chisq_grade_status", chisq.test(table(g$grade, g$status)))
addt("chisq_grade_hormon", chisq.test(table(g$grade, g$hormon)))
addt("chisq_hand", chisq.test(matrix(c(12, 5, 7, 9), 2), correct = TRUE))
# Fisher
addt("fisher_meno_status", fisher.test(table(g$meno, g$status)))
addt("fisher_hormon_status_less", fisher.test(table(g$hormon, g$status), alternative = "less"))
addt("fisher_hormon_status_greater", fisher.test(table(g$hormon, g$status), alternative = "greater"))
addt("fisher_grade_status", fisher.test(table(g$grade, g$status)))
addt("fisher_tea", fisher.test(matrix(c(3, 1, 1, 3), 2)))
addt("fisher_job", fisher.test(matrix(c(1, 2, 1, 0, 3, 3, 6, 1, 10, 10, 14, 9, 6, 7, 12, 11), 4, 4)))
# t tests (estimate = the means; conf.int of the difference)
tt <- function(case, ...) { t <- t.test(...); addt(case, t, c(t$estimate, NA)[1:2]) }
tt("t_welch_radius", w$mean_radius[w$malignant == 1], w$mean_radius[w$malignant == 0])
tt("t_student_radius", w$mean_radius[w$malignant == 1], w$mean_radius[w$malignant == 0], var.equal = TRUE)
tt("t_welch_age", g$age[g$status == 1], g$age[g$status == 0])
tt("t_welch_age_less", g$age[g$status == 1], g$age[g$status == 0], alternative = "less", conf.level = 0.9)
tt("t_student_age_greater", g$age[g$status == 1], g$age[g$status == 0], var.equal = TRUE, alternative = "greater")
tt("t_one_texture", w$mean_texture, mu = 19)
tt("t_paired_radius", w$mean_radius, w$worst_radius, paired = TRUE)
# Wilcoxon rank-sum
ww <- function(case, ...) addt(case, wilcox.test(...))
ww("wilcox_nodes_status", g$nodes[g$status == 1], g$nodes[g$status == 0])
ww("wilcox_radius", w$mean_radius[w$malignant == 1], w$mean_radius[w$malignant == 0])
ww("wilcox_pgr_nocorrect", g$pgr[g$status == 1], g$pgr[g$status == 0], correct = FALSE)
ww("wilcox_pgr_greater", g$pgr[g$status == 1], g$pgr[g$status == 0], alternative = "greater")
xa <- w$mean_area[w$malignant == 1][1:20]; ya <- w$mean_area[w$malignant == 0][1:15]
ww("wilcox_exact_area", xa, ya)
ww("wilcox_exact_area_less", ya, xa, alternative = "less")
xs <- w$mean_smoothness[w$malignant == 1][1:12]; ys <- w$mean_smoothness[w$malignant == 0][1:9]
stopifnot(anyDuplicated(c(xs, ys)) == 0)
ww("wilcox_exact_smooth", xs, ys)
ww("wilcox_exact_smooth_mu", xs, ys, mu = 0.01)
# Wilcoxon signed rank (paired and one-sample)
d15 <- w$mean_radius[1:15] - w$worst_radius[1:15]
stopifnot(anyDuplicated(abs(d15)) == 0, all(d15 != 0))
t20 <- w$mean_texture[1:20] - 18
stopifnot(anyDuplicated(abs(t20)) == 0, all(t20 != 0))
ww("signrank_paired_radius", w$mean_radius, w$worst_radius, paired = TRUE)
ww("signrank_paired_exact", w$mean_radius[1:15], w$worst_radius[1:15], paired = TRUE)
ww("signrank_one_age", g$age[1:40], mu = 50)
ww("signrank_one_exact_greater", w$mean_texture[1:20], mu = 18, alternative = "greater")
ww("signrank_one_nocorrect_less", g$age[1:40], mu = 50, correct = FALSE, alternative = "less")
# Kruskal-Wallis
addt("kruskal_nodes_grade", kruskal.test(g$nodes, g$grade))
addt("kruskal_pgr_grade", kruskal.test(g$pgr, g$grade))
addt("kruskal_age_grade", kruskal.test(g$age, g$grade))
write_fix(do.call(rbind, tests), "stats_tests.csv")

# ---- p.adjust ------------------------------------------------------------------
p <- c(0.01, 0.04, 0.03, 0.005, 0.2, NA, 0.04, 0.9, 1e-8, 0.0501)
pa <- data.frame(p = p)
for (m in c("holm", "hochberg", "bonferroni", "BH", "BY")) pa[[m]] <- p.adjust(p, m)
write_fix(pa, "p_adjust.csv")

# ---- summaries ------------------------------------------------------------------
rows <- list()
for (cs in list(c("wdbc", "mean_radius"), c("wdbc", "mean_concave_points"), c("gbsg", "nodes"),
                c("gbsg", "pgr"), c("gbsg", "age"))) {
  x <- data[[cs[1]]][[cs[2]]]
  q <- quantile(x, c(0.25, 0.5, 0.75))
  rows[[length(rows) + 1]] <- data.frame(data = cs[1], col = cs[2], n = length(x), mean = mean(x),
    sd = sd(x), median = median(x), q1 = q[[1]], q3 = q[[3]], iqr = IQR(x), min = min(x), max = max(x))
}
write_fix(do.call(rbind, rows), "summary.csv")

# ---- threshold metrics, calibration, decision curves ---------------------------
# Predictions of logistic models fitted on a random half of a cohort and
# applied to the other half (so that calibration is not perfect by
# construction); the predictions are saved, Lua reads them:
#   wdbc: malignant ~ mean_radius + mean_texture;
#   gbsg: status ~ nodes + size + pgr.
suppressMessages(library(rms))
fitpred <- function(d, f, dev) {
  m <- glm(f, binomial, data = d[dev, ])
  val <- d[-dev, ]
  data.frame(y = val[[all.vars(f)[1]]], p = unname(predict(m, val, type = "response")))
}
set.seed(2024)
preds <- list(
  wdbc = fitpred(wdbc, malignant ~ mean_radius + mean_texture, sample(nrow(wdbc), 285)),
  gbsg = fitpred(gbsg, status ~ nodes + size + pgr, sample(nrow(gbsg), 343)))
for (nm in names(preds)) write_fix(preds[[nm]], sprintf("calib_pred_%s.csv", nm))

tight <- glm.control(epsilon = 1e-15, maxit = 100)
rows <- list(); hl <- list(); curves <- list(); dcas <- list()
for (nm in names(preds)) {
  y <- preds[[nm]]$y; p <- preds[[nm]]$p; lp <- qlogis(p)
  j <- glm(y ~ lp, binomial, control = tight)
  o <- glm(y ~ offset(lp), binomial, control = tight)
  vp <- val.prob(p, y, pl = FALSE)
  rows[[nm]] <- data.frame(data = nm, brier = mean((p - y)^2), brier_rms = unname(vp["Brier"]),
    intercept = coef(j)[[1]], slope = coef(j)[[2]],
    se_intercept = sqrt(diag(vcov(j)))[[1]], se_slope = sqrt(diag(vcov(j)))[[2]],
    intercept_rms = unname(vp["Intercept"]), slope_rms = unname(vp["Slope"]),
    citl = coef(o)[[1]], se_citl = sqrt(vcov(o))[[1]])
  # Hosmer-Lemeshow as ResourceSelection::hoslem.test(y, p, g): groups cut at
  # the quantiles of p (unique breaks), include.lowest = TRUE
  for (g in c(10, 5)) {
    br <- unique(quantile(p, probs = seq(0, 1, 1 / g)))
    grp <- cut(p, breaks = br, include.lowest = TRUE)
    obs <- xtabs(cbind(1 - y, y) ~ grp); ex <- xtabs(cbind(1 - p, p) ~ grp)
    chi <- sum((obs - ex)^2 / ex); df <- length(br) - 1 - 2
    hl[[length(hl) + 1]] <- data.frame(data = nm, g = g, statistic = chi, df = df,
                                       p = pchisq(chi, df, lower.tail = FALSE))
  }
  # binned curves: equal-width and quantile bins, right-closed, empty bins dropped
  for (strategy in c("uniform", "quantile")) {
    br <- if (strategy == "uniform") seq(0, 1, length.out = 11) else unique(quantile(p, seq(0, 1, 0.1)))
    grp <- cut(p, br, include.lowest = TRUE)
    k <- table(grp); k <- names(k)[k > 0]
    curves[[length(curves) + 1]] <- data.frame(data = nm, strategy = strategy,
      mean_predicted = as.numeric(tapply(p, grp, mean)[k]),
      observed = as.numeric(tapply(y, grp, mean)[k]), n = as.numeric(table(grp)[k]))
  }
  # decision curve: net benefit (Vickers & Elkin 2006), treated when p >= t
  th <- seq(0.01, 0.99, by = 0.01); n <- length(y); prev <- mean(y)
  nb <- sapply(th, function(t) sum(p >= t & y == 1) / n - sum(p >= t & y == 0) / n * t / (1 - t))
  dcas[[length(dcas) + 1]] <- data.frame(data = nm, threshold = th, model = nb,
                                         all = prev - (1 - prev) * th / (1 - th))
}
write_fix(do.call(rbind, rows), "calib.csv")
write_fix(do.call(rbind, hl), "hosmer_lemeshow.csv")
write_fix(do.call(rbind, curves), "calib_curve.csv")
write_fix(do.call(rbind, dcas), "dca.csv")

# threshold metrics with Clopper-Pearson (binom.test) and Wilson
# (prop.test(correct = FALSE)) intervals; positive when score >= cutoff
rows <- list()
mcases <- list(list("wdbc_pred", preds$wdbc$y, preds$wdbc$p, 0.5),
               list("gbsg_pred", preds$gbsg$y, preds$gbsg$p, 0.4),
               list("wdbc_concave", wdbc$malignant, wdbc$mean_concave_points, 0.05),
               list("gbsg_nodes", gbsg$status, gbsg$nodes, 4))
for (mc in mcases) {
  y <- mc[[2]]; s <- mc[[3]]; pos <- s >= mc[[4]]
  tp <- sum(pos & y == 1); fp <- sum(pos & y == 0); tn <- sum(!pos & y == 0); fn <- sum(!pos & y == 1)
  props <- list(sens = c(tp, tp + fn), spec = c(tn, tn + fp), ppv = c(tp, tp + fp),
                npv = c(tn, tn + fn), accuracy = c(tp + tn, length(y)))
  for (k in names(props)) {
    x <- props[[k]][1]; n <- props[[k]][2]
    cp <- binom.test(x, n)$conf.int; wi <- prop.test(x, n, correct = FALSE)$conf.int
    rows[[length(rows) + 1]] <- data.frame(case = mc[[1]], cutoff = mc[[4]], metric = k,
      estimate = x / n, cp_lo = cp[1], cp_hi = cp[2], wilson_lo = wi[1], wilson_hi = wi[2],
      tp = tp, fp = fp, tn = tn, fn = fn, f1 = 2 * tp / (2 * tp + fp + fn))
  }
}
write_fix(do.call(rbind, rows), "metrics.csv")

# ---- Fisher's test by simulation (Monte Carlo: compared in distribution) ------
set.seed(7)
big <- matrix(c(120, 80, 60, 40, 30, 20, 100, 90, 70, 50, 20, 30), 2, byrow = TRUE)
write_fix(data.frame(case = "fisher_2x6", B = 1e5,
                     p = fisher.test(big, simulate.p.value = TRUE, B = 1e5)$p.value),
          "fisher_sim.csv")

# ---- Fisher's conditional MLE odds ratio and its interval (2 x 2) -------------
# fisher.test's own estimate and limits come from uniroot with its default
# tolerance (about 1e-4 on t or 1/t); the same definitions solved with
# tol = 1e-15 in the log odds ratio give reference values at full precision.
or_tight <- function(tab, alternative = "two.sided", conf.level = 0.95) {
  x <- tab[1, 1]; m <- sum(tab[1, ]); n <- sum(tab[2, ]); k <- sum(tab[, 1])
  lo <- max(0, k - n); hi <- min(k, m); support <- lo:hi
  logdc <- dhyper(support, m, n, k, log = TRUE)
  dn <- function(th) { d <- logdc + th * support; d <- exp(d - max(d)); d / sum(d) }
  solve <- function(f) uniroot(f, c(-60, 60), tol = 1e-15, maxiter = 1e4)$root
  est <- if (x == lo) 0 else if (x == hi) Inf else exp(solve(function(th) sum(support * dn(th)) - x))
  a <- if (alternative == "two.sided") (1 - conf.level) / 2 else 1 - conf.level
  L <- if (alternative == "less" || x == lo) 0 else exp(solve(function(th) sum(dn(th)[support >= x]) - a))
  U <- if (alternative == "greater" || x == hi) Inf else exp(solve(function(th) sum(dn(th)[support <= x]) - a))
  c(est, L, U)
}
rows <- list()
orc <- list(list("fisher_meno_status", table(gbsg$meno, gbsg$status), "two.sided", 0.95),
            list("fisher_hormon_status_less", table(gbsg$hormon, gbsg$status), "less", 0.95),
            list("fisher_hormon_status_greater", table(gbsg$hormon, gbsg$status), "greater", 0.95),
            list("fisher_tea", matrix(c(3, 1, 1, 3), 2), "two.sided", 0.95),
            list("fisher_tea_90", matrix(c(3, 1, 1, 3), 2), "two.sided", 0.90))
for (oc in orc) {
  t <- fisher.test(oc[[2]], alternative = oc[[3]], conf.level = oc[[4]])
  tt <- or_tight(oc[[2]], oc[[3]], oc[[4]])
  rows[[length(rows) + 1]] <- data.frame(case = oc[[1]], alternative = oc[[3]], level = oc[[4]],
    estimate = tt[1], lo = tt[2], hi = tt[3],
    r_estimate = unname(t$estimate), r_lo = t$conf.int[1], r_hi = t$conf.int[2])
}
write_fix(do.call(rbind, rows), "fisher_or.csv")
