# combat_r.R - fixtures for sv.harmonise.combat from sva::ComBat (3.46.0,
# par.prior = TRUE) on a real multi-batch data set: serum free light chains
# (survival::flchain; Dispenzieri et al. 2012, Mayo Clinic Proc 87:517),
# where the assays were run by year of sample (sample.yr, 1995-2003): the
# batches. Features: log kappa, log lambda, log creatinine; the first 25
# complete rows of each year (2002 has 4, 2003 has 21: 200 rows, 9 batches). Run from the repository
# root:  Rscript tests/oracle/combat_r.R
suppressMessages({library(survival); library(sva)})
out <- "tests/fixtures/combat"
dir.create(out, showWarnings = FALSE, recursive = TRUE)
num <- function(x) sprintf("%.17g", x)
write_fix <- function(df, name) {
  for (j in seq_along(df)) if (is.numeric(df[[j]])) df[[j]] <- num(df[[j]])
  write.csv(df, file.path(out, name), row.names = FALSE, quote = FALSE)
}
fl <- survival::flchain
fl <- fl[!is.na(fl$creatinine), ]
fl <- do.call(rbind, lapply(split(fl, fl$sample.yr), function(d) d[seq_len(min(25, nrow(d))), ]))
d <- data.frame(year = fl$sample.yr, log_kappa = log(fl$kappa),
                log_lambda = log(fl$lambda), log_creatinine = log(fl$creatinine))
write_fix(d, "flchain_input.csv")
X <- as.matrix(d[, -1])
b <- as.character(d$year)
run <- function(dat, batch, mean.only, ref = NULL)
  suppressMessages(t(ComBat(dat = t(dat), batch = batch, par.prior = TRUE,
                            mean.only = mean.only, ref.batch = ref)))
res <- function(M, name) {
  colnames(M) <- colnames(X)
  write_fix(as.data.frame(M), name)
}
res(run(X, b, FALSE), "flchain_plain.csv")
res(run(X, b, TRUE), "flchain_mean_only.csv")
res(run(X, b, FALSE, "1996"), "flchain_ref1996.csv")
res(run(X, b, TRUE, "1996"), "flchain_ref1996_mean_only.csv")
# a centre never seen in fitting: the 2003 rows, adjusted onto 1996 by
# ComBat run on the training rows and the new rows together
new <- b == "2003"
res(run(X, b, FALSE, "1996")[new, ], "flchain_new2003.csv")
# ... which only the reference rows and the new rows determine:
two <- b %in% c("1996", "2003")
stopifnot(max(abs(run(X, b, FALSE, "1996")[new, ] -
                  run(X[two, ], b[two], FALSE, "1996")[b[two] == "2003", ])) < 1e-12)
res(run(X, b, TRUE, "1996")[new, ], "flchain_new2003_mean_only.csv")
# a batch of one row forces mean.only for all
one <- !(b == "2002") | (seq_along(b) == which(b == "2002")[1])
res(run(X[one, ], b[one], FALSE), "flchain_single.csv")
cat("sva", as.character(packageVersion("sva")), "\n")
