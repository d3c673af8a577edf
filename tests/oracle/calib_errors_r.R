# calib_errors_r.R - fixtures for the lowess smoother (sv_lowess) and the
# calibration errors Emax, E90 and ICI (sv.validate.metrics) from R, on
# gbsg. Run from the repository root:
#   Rscript tests/oracle/calib_errors_r.R
# 1. calib_points.csv: per patient the outcome (status), the logistic
#    model's prediction p (glm status ~ age + size + nodes + pgr + er +
#    hormon, written to 17 digits so that sylva reads R's own numbers), p
#    rounded to 2 decimals (many ties), age and recurrence-free time in
#    years (a smoother on continuous data).
# 2. calib_rows.txt: a row list with repeats (a bootstrap sample drawn
#    here), as sv.validate lists a replicate's own rows.
# 3. lowess_r.csv: stats::lowess fitted values (in R's order: sorted by x,
#    ties in input order) for p and rounded p with iter = 0 (what
#    rms::val.prob uses), age -> years with the default iter = 3 and with
#    f = 0.3, and years -> status (iter = 3).
# 4. calib_errors_r.csv: rms::val.prob's Emax, E90 and Eavg (= ICI) for p,
#    rounded p, and p over the row list.
suppressMessages(library(rms))
out <- "tests/fixtures/validate"
gbsg <- read.csv("tests/fixtures/data/gbsg.csv")
y <- gbsg$status
fit <- glm(status ~ age + size + nodes + pgr + er + hormon, family = binomial, data = gbsg)
p <- unname(fitted(fit))
p2 <- round(p, 2)
years <- gbsg$rfstime / 365.25
num <- function(x) sprintf("%.17g", x)
write.csv(data.frame(y = y, p = num(p), p2 = num(p2), age = gbsg$age, years = num(years)),
          file.path(out, "calib_points.csv"), row.names = FALSE, quote = FALSE)
set.seed(16)
rows <- sample.int(length(y), length(y), replace = TRUE)
writeLines(paste(rows, collapse = " "), file.path(out, "calib_rows.txt"))

cases <- list(
  p_iter0 = lowess(p, y, iter = 0),
  p2_iter0 = lowess(p2, y, iter = 0),
  age_iter3 = lowess(gbsg$age, years),
  age_f03 = lowess(gbsg$age, years, f = 0.3),
  years_status = lowess(years, y)
)
lw <- do.call(rbind, lapply(names(cases), function(k)
  data.frame(case = k, i = seq_along(cases[[k]]$y), x = num(cases[[k]]$x), fit = num(cases[[k]]$y))))
write.csv(lw, file.path(out, "lowess_r.csv"), row.names = FALSE, quote = FALSE)

ve <- function(case, pp, yy) {
  s <- val.prob(pp, yy, pl = FALSE)
  data.frame(case = case, emax = num(s[["Emax"]]), e90 = num(s[["E90"]]), ici = num(s[["Eavg"]]))
}
suppressWarnings(res <- rbind(ve("p", p, y), ve("p2", p2, y), ve("p_rows", p[rows], y[rows])))
write.csv(res, file.path(out, "calib_errors_r.csv"), row.names = FALSE, quote = FALSE)
print(res)
