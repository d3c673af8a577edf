# handtill_proc.R - pROC's multiclass.roc (Hand & Till's M) as the oracle
# of sv_roc_hand_till (tests/c/test_roc.c). Input: the gbsg test rows'
# grade (1/2/3) and class probabilities of a 200-tree scikit-learn forest
# rounded to 2 decimals, so that ties occur
# (tests/fixtures/forest/handtill_gbsg.csv, written by
# tests/oracle/forest_multiclass_sklearn.py). Run from the repository root:
#   Rscript tests/oracle/handtill_proc.R
# Writes tests/fixtures/forest/handtill_gbsg_proc.csv: key, value with the
# overall M and the pairwise AUCs (mean of the two directions).
suppressMessages(library(pROC))
d <- read.csv("tests/fixtures/forest/handtill_gbsg.csv")
P <- as.matrix(d[, c("p1", "p2", "p3")])
colnames(P) <- c("1", "2", "3")
m <- multiclass.roc(d$grade, P)
out <- data.frame(key = "M", value = as.numeric(m$auc))
for (nm in names(m$rocs)) {
  r <- m$rocs[[nm]]
  a <- mean(c(as.numeric(auc(r[[1]])), as.numeric(auc(r[[2]]))))
  out <- rbind(out, data.frame(key = paste0("pair_", gsub("/", "_", nm)), value = a))
}
write.csv(format(out, digits = 17), "tests/fixtures/forest/handtill_gbsg_proc.csv",
          row.names = FALSE, quote = FALSE)
print(out, digits = 17)
cat("pROC", as.character(packageVersion("pROC")), "\n")
