# export_registry.R - the Rotterdam tumour bank (R survival::rotterdam,
# 2,982 patients; docs/data-sources.md) exported the way a hospital registry
# hands data over: long clinical column names, words and codes instead of
# 0/1, a few "Unknown" / "n.d." / "not assessed" cells and blank recurrence
# fields, and a HER2 column that the registry never filled in (HER2 testing
# was not routine in 1978-1993). docs/your-cohort.md runs it through a study.
# Also writes the counts the study must report, computed here in R, as the
# oracle of tests/lua/test_your_cohort.lua.
#   Rscript tests/oracle/export_registry.R
suppressMessages(library(survival))
r <- survival::rotterdam
set.seed(2013)
n <- nrow(r)
pick <- function(p) runif(n) < p
yn <- function(x) ifelse(x == 1, "Yes", "No")
meno <- ifelse(r$meno == 1, "Postmenopausal", "Premenopausal")
meno[pick(0.02)] <- "Unknown"
grade <- ifelse(r$grade == 2, "Grade II", "Grade III")
grade[pick(0.01)] <- "not assessed"
pgr <- as.character(r$pgr); pgr[pick(0.03)] <- "n.d."
er <- as.character(r$er); er[pick(0.03)] <- "n.d."
recur <- yn(r$recur); blank <- pick(0.005); recur[blank] <- ""
size <- c("<=20" = "T1 (<=20 mm)", "20-50" = "T2 (21-50 mm)", ">50" = "T3 (>50 mm)")[as.character(r$size)]
out <- data.frame(
  "Patient ID" = sprintf("RTM-%04d", r$pid),
  "Year of primary surgery" = r$year,
  "Age at primary surgery (years)" = r$age,
  "Menopausal status at diagnosis" = meno,
  "Pathological tumour size category" = size,
  "Histological differentiation grade" = grade,
  "Number of positive axillary lymph nodes" = r$nodes,
  "Progesterone receptor (fmol/l)" = pgr,
  "Oestrogen receptor (fmol/l)" = er,
  "Adjuvant hormonal therapy" = yn(r$hormon),
  "Adjuvant chemotherapy" = yn(r$chemo),
  "Distant or local recurrence" = recur,
  "Days from surgery to recurrence or last follow-up" = r$rtime,
  "Vital status at last contact" = ifelse(r$death == 1, "Dead", "Alive"),
  "Days from surgery to death or last contact" = r$dtime,
  "HER2 status" = "not recorded",
  check.names = FALSE)
dir.create("examples/your-cohort/data", showWarnings = FALSE, recursive = TRUE)
write.csv(out, "examples/your-cohort/data/rotterdam_registry.csv", row.names = FALSE, na = "")

# The oracle: per period of surgery (the study's two "centres"), the
# patients, those without a 5-year label (blank recurrence, or censored
# before 5 years), and the events within 5 years. Event-free survival:
# the recurrence time if there was a recurrence, else the death time.
h <- 5 * 365.25
t <- ifelse(r$recur == 1, r$rtime, r$dtime)
e <- ifelse(r$recur == 1, 1, r$death)
lab <- ifelse(e == 1 & t <= h, 1, ifelse(t > h, 0, NA))
lab[blank] <- NA
period <- ifelse(r$year <= 1988, "1978-1988", "1989-1993")
res <- do.call(rbind, lapply(c("1978-1988", "1989-1993"), function(p) {
  k <- period == p
  data.frame(period = p, n = sum(k), missing = sum(is.na(lab[k])), positive = sum(lab[k] == 1, na.rm = TRUE),
             negative = sum(lab[k] == 0, na.rm = TRUE),
             unknown_menopause = sum(meno[k] == "Unknown"), blank_recurrence = sum(blank[k]))
}))
dir.create("tests/fixtures/your_cohort", showWarnings = FALSE, recursive = TRUE)
write.csv(res, "tests/fixtures/your_cohort/counts.csv", row.names = FALSE, quote = FALSE)
print(res)
cat("survival", as.character(packageVersion("survival")), "\n")
