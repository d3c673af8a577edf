# table1_r.R - R's answers for the baseline table of tests/lua/test_table1.lua
# on the GBSG cohort: summaries per group, skewness (G1), the p-values of
# Welch's t, one-way ANOVA, Wilcoxon, Kruskal-Wallis, chi-square and Fisher.
#   Rscript tests/oracle/table1_r.R   (writes tests/fixtures/table1/gbsg_table1.csv)
d <- read.csv("tests/fixtures/data/gbsg.csv")
G1 <- function(x) {
  n <- length(x); m <- mean(x)
  g1 <- mean((x - m)^3) / mean((x - m)^2)^1.5
  g1 * sqrt(n * (n - 1)) / (n - 2)
}
rows <- list()
add <- function(by, variable, test, p, stat, extra = "") {
  rows[[length(rows) + 1]] <<- data.frame(by = by, variable = variable, test = test,
    p = sprintf("%.17g", p), statistic = sprintf("%.17g", stat), extra = extra)
}
summ <- function(by, variable, g) {
  x <- d[[variable]]; grp <- d[[by]]
  for (lv in sort(unique(grp))) {
    s <- x[grp == lv]
    q <- quantile(s, c(0.25, 0.5, 0.75))
    rows[[length(rows) + 1]] <<- data.frame(by = by, variable = variable, test = paste0("summary_", lv),
      p = sprintf("%.17g", mean(s)), statistic = sprintf("%.17g", sd(s)),
      extra = sprintf("%.17g|%.17g|%.17g|%.17g", q[2], q[1], q[3], G1(s)))
  }
}
# two groups: hormone therapy
for (v in c("age", "nodes", "size", "pgr")) summ("hormon", v)
t <- t.test(age ~ hormon, data = d); add("hormon", "age", "welch", t$p.value, t$statistic)
w <- wilcox.test(nodes ~ hormon, data = d); add("hormon", "nodes", "wilcoxon", w$p.value, w$statistic)
w <- wilcox.test(size ~ hormon, data = d); add("hormon", "size", "wilcoxon", w$p.value, w$statistic)
ct <- chisq.test(table(d$grade, d$hormon)); add("hormon", "grade", "chisq", ct$p.value, ct$statistic)
ct <- chisq.test(table(d$meno, d$hormon)); add("hormon", "meno", "chisq", ct$p.value, ct$statistic)
# three groups: grade
for (v in c("age", "nodes")) summ("grade", v)
a <- summary(aov(age ~ factor(grade), data = d))[[1]]
add("grade", "age", "anova", a[["Pr(>F)"]][1], a[["F value"]][1])
k <- kruskal.test(nodes ~ factor(grade), data = d); add("grade", "nodes", "kruskal", k$p.value, k$statistic)
ct <- chisq.test(table(d$meno, d$grade)); add("grade", "meno", "chisq", ct$p.value, ct$statistic)
# a small table where an expected count is below 5: Fisher
small <- d[1:40, ]
f <- fisher.test(table(small$grade, small$hormon)); add("grade_small", "grade", "fisher", f$p.value, NA)
out <- do.call(rbind, rows)
write.csv(out, "tests/fixtures/table1/gbsg_table1.csv", row.names = FALSE, quote = FALSE)

# Levels and missing values (tests/fixtures/table1/levels_missing.csv, a
# hand-made cohort): R's counts with table(useNA = "ifany") per set and
# overall, where her2 has a value ("negative") outside the declared levels
# and missing values; and the test on her2 with that value as an "Other"
# level. Writes tests/fixtures/table1/levels_missing_r.csv.
m <- read.csv("tests/fixtures/table1/levels_missing.csv", na.strings = "NA")
lm_rows <- list()
put <- function(variable, level, group, value) {
  lm_rows[[length(lm_rows) + 1]] <<- data.frame(variable = variable, level = level, group = group,
                                                value = sprintf("%.17g", value))
}
for (v in c("her2", "grade")) {
  x <- m[[v]]
  tab <- table(x, m$set, useNA = "ifany")
  rn <- rownames(tab); cn <- colnames(tab)
  for (a in seq_along(rn)) for (b in seq_along(cn)) {
    put(v, ifelse(is.na(rn[a]), "<NA>", rn[a]), ifelse(is.na(cn[b]), "<NA>", cn[b]), tab[a, b])
  }
  all <- table(x, useNA = "ifany")
  for (a in seq_along(all)) put(v, ifelse(is.na(names(all)[a]), "<NA>", names(all)[a]), "Overall", all[[a]])
}
her2 <- ifelse(m$her2 %in% c("positive", "low", "zero"), m$her2, ifelse(is.na(m$her2), NA, "Other"))
tab <- table(her2, m$set)
put("her2_other", "chisq", "p", suppressWarnings(chisq.test(tab))$p.value)
put("her2_other", "fisher", "p", fisher.test(tab)$p.value)
write.csv(do.call(rbind, lm_rows), "tests/fixtures/table1/levels_missing_r.csv", row.names = FALSE, quote = FALSE)
