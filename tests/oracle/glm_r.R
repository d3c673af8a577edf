# glm_r.R - fixtures for sv.glm.logistic from R's glm(family = binomial)
# (stats, R 4.2) on the real cohorts. Run from the repository root:
#   Rscript tests/oracle/glm_r.R
# Writes tests/fixtures/glm/glm.csv: one row per (case, coefficient) with
# the coefficient, its standard error, z and p, and the model's deviance,
# null deviance, AIC, iterations and flags; and glm_predict.csv, predict()
# of each model on the first 20 rows of the other cohort's columns
# (type = "link" and "response"). Numbers with 17 significant digits.
out <- "tests/fixtures/glm"
dir.create(out, showWarnings = FALSE, recursive = TRUE)
gbsg <- read.csv("tests/fixtures/data/gbsg.csv")
wdbc <- read.csv("tests/fixtures/data/wdbc.csv")
num <- function(x) sprintf("%.17g", x)

# case id, data, formula (offsets as offset(off) terms), weights; the
# weight and offset columns are made here from gbsg's pid and rfstime and
# remade the same way by the test
gbsg$w <- (gbsg$pid %% 3) + 1            # integer prior weights 1..3
gbsg$off <- (gbsg$rfstime - 1000) / 2000 # an offset on the logit scale
cases <- list(
  list(id = "gbsg_full", d = gbsg,
       f = status ~ age + meno + size + grade + nodes + pgr + er + hormon),
  list(id = "gbsg_weights", d = gbsg, f = status ~ age + size + nodes + pgr, w = TRUE),
  list(id = "gbsg_offset", d = gbsg, f = status ~ age + size + nodes + hormon + offset(off), off = TRUE),
  list(id = "gbsg_offset_weights", d = gbsg, f = status ~ size + nodes + offset(off), off = TRUE, w = TRUE),
  list(id = "gbsg_nointercept", d = gbsg, f = status ~ 0 + age + size + hormon),
  list(id = "wdbc_mean5", d = wdbc,
       f = malignant ~ mean_radius + mean_texture + mean_smoothness + mean_concave_points + mean_symmetry),
  list(id = "wdbc_worst3", d = wdbc, f = malignant ~ worst_radius + worst_texture + worst_concave_points)
)
rows <- list()
preds <- list()
for (cs in cases) {
  args <- list(formula = cs$f, family = binomial, data = cs$d)
  if (isTRUE(cs$w)) args$weights <- cs$d$w
  fit <- do.call(glm, args)
  s <- summary(fit)$coefficients
  rows[[cs$id]] <- data.frame(case = cs$id, term = rownames(s),
    coef = num(s[, 1]), se = num(s[, 2]), z = num(s[, 3]), p = num(s[, 4]),
    deviance = num(fit$deviance), null_deviance = num(fit$null.deviance),
    aic = num(fit$aic), df_residual = fit$df.residual, df_null = fit$df.null,
    iter = fit$iter, converged = fit$converged)
  nd <- cs$d[1:20, ]
  lp <- predict(fit, newdata = nd, type = "link")
  pr <- predict(fit, newdata = nd, type = "response")
  preds[[cs$id]] <- data.frame(case = cs$id, row = 1:20, link = num(lp), response = num(pr))
}
write.csv(do.call(rbind, rows), file.path(out, "glm.csv"), row.names = FALSE, quote = FALSE)
write.csv(do.call(rbind, preds), file.path(out, "glm_predict.csv"), row.names = FALSE, quote = FALSE)

# R's warnings on the failure cases (recorded for the test's comments):
# all 30 wdbc features separate the classes; maxit = 2 stops early.
f30 <- as.formula(paste("malignant ~", paste(setdiff(names(wdbc), "malignant"), collapse = " + ")))
w <- character()
invisible(withCallingHandlers(glm(f30, binomial, wdbc),
  warning = function(e) { w <<- c(w, conditionMessage(e)); invokeRestart("muffleWarning") }))
w2 <- character()
invisible(withCallingHandlers(glm(status ~ age + size, binomial, gbsg, control = glm.control(maxit = 2)),
  warning = function(e) { w2 <<- c(w2, conditionMessage(e)); invokeRestart("muffleWarning") }))
writeLines(c(paste("wdbc_all30:", w), paste("gbsg_maxit2:", w2)), file.path(out, "glm_warnings.txt"))
