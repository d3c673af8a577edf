# surv_r.R - the R survival oracle for sv.surv: writes the fixtures under
# tests/fixtures/surv/ that tests/lua/test_surv.lua compares against (CI
# never runs R). Run from the repository root:
#   Rscript tests/oracle/surv_r.R
# Data: tests/fixtures/data/{gbsg,rotterdam}.csv (exported from survival by
# tests/oracle/export_data.R), read back here so that R and sylva see
# exactly the same numbers.
suppressMessages(library(survival))
out <- "tests/fixtures/surv"
dir.create(out, showWarnings = FALSE, recursive = TRUE)
gbsg <- read.csv("tests/fixtures/data/gbsg.csv")
rott <- read.csv("tests/fixtures/data/rotterdam.csv")
rott$size <- factor(rott$size, levels = c("20-50", "<=20", ">50"))

fmt <- function(x) ifelse(is.na(x), "NA", sprintf("%.17g", x))
scal <- list()
put <- function(key, value, vector = FALSE) {
  value <- as.numeric(value)
  if (length(value) == 1 && !vector) scal[[key]] <<- value
  else for (i in seq_along(value)) scal[[paste0(key, ".", i)]] <<- value[i]
}
write_table <- function(df, file) {
  for (j in seq_along(df)) if (is.numeric(df[[j]])) df[[j]] <- fmt(df[[j]])
  write.csv(df, file.path(out, file), row.names = FALSE, quote = FALSE)
}

# ---- Kaplan-Meier: every column, three CI types, two cohorts -------------
km_table <- function(f) data.frame(time = f$time, n_risk = f$n.risk, n_event = f$n.event,
                                   n_censor = f$n.censor, surv = f$surv, std_err = f$std.err,
                                   lower = f$lower, upper = f$upper)
cohorts <- list(gbsg = list(t = gbsg$rfstime, e = gbsg$status),
                rott = list(t = rott$rtime, e = rott$recur))
for (cn in names(cohorts)) {
  co <- cohorts[[cn]]
  for (ct in c("log", "log-log", "plain")) {
    for (lev in c(0.95, 0.9)) {
      f <- survfit(Surv(co$t, co$e) ~ 1, conf.type = ct, conf.int = lev)
      tag <- sprintf("%s_%s_%g", cn, sub("-", "", ct), lev * 100)
      write_table(km_table(f), sprintf("km_%s.csv", tag))
      tab <- summary(f)$table
      put(paste0("km.", tag, ".median"), tab["median"])
      put(paste0("km.", tag, ".median_lo"), tab[grep("LCL", names(tab))])
      put(paste0("km.", tag, ".median_hi"), tab[grep("UCL", names(tab))])
      s <- summary(f, times = c(1, 365, 730.5, 1000, 1825))
      put(paste0("at.", tag, ".surv"), s$surv)
      put(paste0("at.", tag, ".se_surv"), s$std.err)  # summary's is se(S)
      put(paste0("at.", tag, ".lower"), s$lower)
      put(paste0("at.", tag, ".upper"), s$upper)
      put(paste0("at.", tag, ".n_risk"), s$n.risk)
      put(paste0("at.", tag, ".n_event"), s$n.event)
    }
  }
  # restricted mean, as print(survfit, rmean = tau)
  f <- survfit(Surv(co$t, co$e) ~ 1)
  for (tau in c(365, 1825, 2000.5, 10000)) {
    tab <- summary(f, rmean = tau)$table
    put(sprintf("rmst.%s.%g.rmst", cn, tau), tab["rmean"])
    put(sprintf("rmst.%s.%g.se", cn, tau), tab["se(rmean)"])
  }
}

# A curve whose survival sits at exactly 0.5 over an interval (the
# midpoint rule of the median) and one that never reaches 0.5.
t6 <- c(1, 2, 3, 4, 5, 6); e6 <- c(1, 1, 1, 0, 1, 0)
f <- survfit(Surv(t6, e6) ~ 1)
tab <- summary(f)$table
put("km.half.median", tab["median"]); put("km.half.median_lo", tab["0.95LCL"])
put("km.half.median_hi", tab["0.95UCL"])
f <- survfit(Surv(c(1, 2, 3, 4), c(1, 0, 0, 0)) ~ 1)
put("km.high.median", summary(f)$table["median"])

# KM by group (grade), log CI, all rows with their group
f <- survfit(Surv(rfstime, status) ~ grade, data = gbsg)
tb <- km_table(f)
tb$group <- rep(as.integer(sub("grade=", "", names(f$strata))), f$strata)
write_table(tb, "km_gbsg_bygrade.csv")
tab <- summary(f)$table
for (g in 1:3) {
  put(sprintf("kmg.%d.median", g), tab[g, "median"])
  put(sprintf("kmg.%d.median_lo", g), tab[g, "0.95LCL"])
  put(sprintf("kmg.%d.median_hi", g), tab[g, "0.95UCL"])
}

# ---- log-rank and G-rho -------------------------------------------------
lr <- function(key, fml, data, rho) {
  s <- survdiff(fml, data = data, rho = rho)
  put(paste0(key, ".chisq"), s$chisq)
  put(paste0(key, ".df"), sum(rowSums(as.matrix(s$exp)) > 0) - 1)
  put(paste0(key, ".p"), s$pvalue)
  put(paste0(key, ".observed"), rowSums(as.matrix(s$obs)))
  put(paste0(key, ".expected"), rowSums(as.matrix(s$exp)))
}
for (rho in c(0, 1)) {
  lr(sprintf("lr.gbsg.hormon.%d", rho), Surv(rfstime, status) ~ hormon, gbsg, rho)
  lr(sprintf("lr.gbsg.grade.%d", rho), Surv(rfstime, status) ~ grade, gbsg, rho)
  lr(sprintf("lr.gbsg.grade_meno.%d", rho), Surv(rfstime, status) ~ grade + strata(meno), gbsg, rho)
  # rotterdam size: string labels, sorted byte-wise as sylva does
  # ("20-50" < "<=20" < ">50"), not in the locale's collation order.
  lr(sprintf("lr.rott.size.%d", rho), Surv(rtime, recur) ~ size, rott, rho)
  lr(sprintf("lr.rott.hormon_grade.%d", rho), Surv(rtime, recur) ~ hormon + strata(grade), rott, rho)
}
lr("lr.rott.size.0.5", Surv(rtime, recur) ~ size, rott, 0.5)
# pairwise log-rank by grade with Holm and BH
pv <- c()
for (pr in list(c(1, 2), c(1, 3), c(2, 3))) {
  d <- gbsg[gbsg$grade %in% pr, ]
  pv <- c(pv, survdiff(Surv(rfstime, status) ~ grade, data = d)$pvalue)
}
put("pw.gbsg.grade.p", pv)
put("pw.gbsg.grade.holm", p.adjust(pv, "holm"))
put("pw.gbsg.grade.BH", p.adjust(pv, "BH"))

# ---- Cox ------------------------------------------------------------------
cx <- function(key, fml, data, ties) {
  f <- coxph(fml, data = data, ties = ties)
  s <- summary(f)
  put(paste0(key, ".coef"), coef(f), vector = TRUE)
  put(paste0(key, ".se"), sqrt(diag(f$var)), vector = TRUE)
  put(paste0(key, ".hr_lo"), s$conf.int[, "lower .95"], vector = TRUE)
  put(paste0(key, ".hr_hi"), s$conf.int[, "upper .95"], vector = TRUE)
  put(paste0(key, ".z"), s$coefficients[, "z"], vector = TRUE)
  put(paste0(key, ".p"), s$coefficients[, "Pr(>|z|)"], vector = TRUE)
  put(paste0(key, ".loglik"), f$loglik)
  put(paste0(key, ".wald"), f$wald.test)
  put(paste0(key, ".score"), f$score)
  put(paste0(key, ".lrt"), 2 * diff(f$loglik))
  put(paste0(key, ".wald_p"), s$waldtest["pvalue"])
  put(paste0(key, ".score_p"), s$sctest["pvalue"])
  put(paste0(key, ".lrt_p"), s$logtest["pvalue"])
  put(paste0(key, ".concordance"), f$concordance["concordance"])
  put(paste0(key, ".concordance_se"), f$concordance["std"])
  put(paste0(key, ".iter"), f$iter)
}
gv <- Surv(rfstime, status) ~ age + meno + size + grade + nodes + pgr + er + hormon
rv <- Surv(rtime, recur) ~ age + meno + grade + nodes + pgr + er + hormon + chemo
for (ties in c("efron", "breslow")) {
  cx(paste0("cox.gbsg.", ties), gv, gbsg, ties)
  cx(paste0("cox.rott.", ties), rv, rott, ties)
  cx(paste0("cox.gbsg_strata.", ties),
     Surv(rfstime, status) ~ age + size + nodes + pgr + hormon + strata(grade), gbsg, ties)
  cx(paste0("cox.gbsg1.", ties), Surv(rfstime, status) ~ hormon, gbsg, ties)
}
# collinear: agesize = age + size is aliased (NA coefficient)
gbsg$agesize <- gbsg$age + gbsg$size
f <- coxph(Surv(rfstime, status) ~ age + size + agesize + nodes, data = gbsg)
put("cox.alias.coef", ifelse(is.na(coef(f)), NA, coef(f)))
put("cox.alias.loglik", f$loglik)
# monotone likelihood: every subject with x = 1 fails before those with x = 0
mono <- data.frame(t = 1:8, e = c(1, 1, 1, 1, 0, 1, 0, 1), x = c(1, 1, 1, 1, 0, 0, 0, 0),
                   z = c(0.5, -1, 2, 0.1, 0.3, -0.7, 1.2, 0.4))
w <- NULL
f <- withCallingHandlers(coxph(Surv(t, e) ~ x + z, data = mono),
                         warning = function(cond) { w <<- conditionMessage(cond); invokeRestart("muffleWarning") })
put("cox.mono.coef", coef(f)); put("cox.mono.loglik", f$loglik); put("cox.mono.iter", f$iter)
writeLines(w, file.path(out, "cox_mono_warning.txt"))

# ---- concordance ------------------------------------------------------------
cc <- function(key, fml, data) {
  k <- concordance(fml, data = data, reverse = TRUE)
  put(paste0(key, ".c"), k$concordance)
  put(paste0(key, ".var"), k$var)
  counts <- if (is.matrix(k$count)) colSums(k$count) else k$count  # per stratum
  put(paste0(key, ".counts"), counts[c("concordant", "discordant", "tied.x", "tied.y", "tied.xy")])
}
cc("conc.gbsg.nodes", Surv(rfstime, status) ~ nodes, gbsg)
cc("conc.gbsg.size", Surv(rfstime, status) ~ size, gbsg)
cc("conc.gbsg.nodes_meno", Surv(rfstime, status) ~ nodes + strata(meno), gbsg)
cc("conc.rott.nodes", Surv(rtime, recur) ~ nodes, rott)

keys <- names(scal)
write.csv(data.frame(key = keys, value = fmt(unlist(scal))), file.path(out, "scalars.csv"),
          row.names = FALSE, quote = FALSE)
cat("survival", as.character(packageVersion("survival")), ":", length(keys), "scalars\n")
