# validate_r.R - fixtures for sv.validate from R, on gbsg (status ~ age +
# size + nodes + pgr + er + hormon, logistic). Run from the repository root
# after tests/oracle/validate_export.lua:
#   Rscript tests/oracle/validate_r.R
# 1. validate_exact.csv (methods named optimism, dot632, dot632plus so
#    that a CSV reader does not take ".632" for a number): apparent, optimism and corrected AUC, Brier,
#    calibration slope and calibration-in-the-large of the optimism, .632
#    and .632+ bootstrap, recomputed here with glm + pROC + the
#    recalibration glm from the bootstrap rows sylva recorded
#    (boot_rows.txt); and the prediction instability (Riley & Collins 2023)
#    of the same replicates. The test asks for agreement to 1e-9.
# 2. validate_rms.csv: rms::validate(lrm, method = "boot", B = 200) on the
#    same model: an independent implementation with its own resamples. The
#    test compares sylva's optimism (its own B = 200 resamples) within
#    Monte Carlo error.
suppressMessages({library(pROC); library(rms)})
out <- "tests/fixtures/validate"
gbsg <- read.csv("tests/fixtures/data/gbsg.csv")
f <- status ~ age + size + nodes + pgr + er + hormon
y <- gbsg$status
n <- nrow(gbsg)
num <- function(x) sprintf("%.17g", x)
tight <- glm.control(epsilon = 1e-15, maxit = 100)

metrics <- function(yy, p) {
  auc <- if (length(unique(yy)) == 2)
    as.numeric(auc(roc(yy, p, levels = c(0, 1), direction = "<", quiet = TRUE))) else NA
  lp <- qlogis(p)
  c(auc = auc, brier = mean((p - yy)^2),
    slope = unname(coef(glm(yy ~ lp, family = binomial, control = tight))[2]),
    intercept = unname(coef(glm(yy ~ offset(lp), family = binomial, control = tight))[1]))
}
fit_p <- function(rows) {
  m <- glm(f, family = binomial, data = gbsg[rows, ])
  predict(m, newdata = gbsg, type = "response")
}
p0 <- fit_p(1:n)
app <- metrics(y, p0)
lines <- readLines(file.path(out, "boot_rows.txt"))
B <- length(lines)
train <- test <- oob <- matrix(NA, B, 4, dimnames = list(NULL, names(app)))
P <- matrix(NA, B, n)
for (b in 1:B) {
  rows <- as.integer(strsplit(lines[b], " ")[[1]])
  p <- fit_p(rows)
  P[b, ] <- p
  train[b, ] <- metrics(y[rows], p[rows])
  test[b, ] <- metrics(y, p)
  o <- setdiff(1:n, rows)
  oob[b, ] <- metrics(y[o], p[o])
}
opt <- colMeans(train - test)
res <- data.frame(method = "optimism", metric = names(app), apparent = app,
                  optimism = opt, corrected = app - opt)
oobm <- colMeans(oob)
c632 <- 0.368 * app + 0.632 * oobm
res <- rbind(res, data.frame(method = "dot632", metric = names(app), apparent = app,
                             optimism = app - c632, corrected = c632))
# .632+ (Efron & Tibshirani 1997) on errors: 1 - AUC (no information 1/2)
# and Brier (no information: mean over all pairs (y_i - p_j)^2)
plus <- function(err_app, err1, gamma) {
  err1p <- min(err1, gamma)
  R <- if (err1p > err_app && gamma > err_app) (err1p - err_app) / (gamma - err_app) else 0
  err_app + (err1p - err_app) * 0.632 / (1 - 0.368 * R)
}
gamma_b <- mean(outer(y, p0, function(a, b) (a - b)^2))
cp <- c(1 - plus(1 - app[["auc"]], 1 - oobm[["auc"]], 0.5),
        plus(app[["brier"]], oobm[["brier"]], gamma_b), NA, NA)
res <- rbind(res, data.frame(method = "dot632plus", metric = names(app), apparent = app,
                             optimism = app - cp, corrected = cp))
# instability: per patient mean |p_b - p0| and the 2.5%, 97.5% quantiles
mape <- colMeans(abs(sweep(P, 2, p0)))
q <- apply(P, 2, quantile, probs = c(0.025, 0.975), type = 7)
inst <- data.frame(method = "instability", metric = c("mape_mean", paste0("mape_", 1:5),
                   paste0("lo_", 1:5), paste0("hi_", 1:5)), apparent = NA,
                   optimism = NA, corrected = c(mean(mape), mape[1:5], q[1, 1:5], q[2, 1:5]))
res <- rbind(res, inst)
for (j in 3:5) res[[j]] <- ifelse(is.na(res[[j]]), "NA", num(res[[j]]))
write.csv(res, file.path(out, "validate_exact.csv"), row.names = FALSE, quote = FALSE)

# ---- rms::validate on the same model, B = 200 ----------------------------
set.seed(20261202)
lf <- lrm(f, data = gbsg, x = TRUE, y = TRUE)
v <- validate(lf, method = "boot", B = 200)
keep <- c("Dxy", "Slope", "B")
rv <- data.frame(index = keep, index_orig = num(v[keep, "index.orig"]),
                 training = num(v[keep, "training"]), test = num(v[keep, "test"]),
                 optimism = num(v[keep, "optimism"]), corrected = num(v[keep, "index.corrected"]),
                 n = v[keep, "n"])
write.csv(rv, file.path(out, "validate_rms.csv"), row.names = FALSE, quote = FALSE)
