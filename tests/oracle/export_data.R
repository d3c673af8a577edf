# export_data.R - writes the real breast-cancer cohorts that ship with R's
# survival package as CSV fixtures (tests and examples read them; CI needs
# no R). Run: Rscript tests/oracle/export_data.R
# Data: survival::gbsg (German Breast Cancer Study Group, 686 patients) and
# survival::rotterdam (Rotterdam tumour bank, 2982 patients); see
# docs/data-sources.md for attribution.
suppressMessages(library(survival))
out <- "tests/fixtures/data"
dir.create(out, showWarnings = FALSE, recursive = TRUE)
write.csv(survival::gbsg, file.path(out, "gbsg.csv"), row.names = FALSE)
write.csv(survival::rotterdam, file.path(out, "rotterdam.csv"), row.names = FALSE)
cat("survival", as.character(packageVersion("survival")), "\n")
