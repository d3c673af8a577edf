# describe_r.R - R's per-column summaries of the rotterdam cohort (survival
# package, as exported in tests/fixtures/data/rotterdam.csv) for d:describe().
# Run: Rscript tests/oracle/describe_r.R > tests/fixtures/data/rotterdam_describe.csv
d <- read.csv("tests/fixtures/data/rotterdam.csv", stringsAsFactors = FALSE)
rows <- lapply(names(d), function(nm) {
  x <- d[[nm]]
  if (is.numeric(x)) {
    q <- quantile(x, c(0.25, 0.75), type = 7, na.rm = TRUE)
    data.frame(name = nm, type = "number", n = sum(!is.na(x)), missing = sum(is.na(x)),
               mean = mean(x, na.rm = TRUE), sd = sd(x, na.rm = TRUE), median = median(x, na.rm = TRUE),
               q1 = q[[1]], q3 = q[[2]], min = min(x, na.rm = TRUE), max = max(x, na.rm = TRUE), levels = "")
  } else {
    tb <- table(x)
    tb <- tb[order(-as.integer(tb), names(tb))]
    data.frame(name = nm, type = "text", n = sum(!is.na(x)), missing = sum(is.na(x)),
               mean = NA, sd = NA, median = NA, q1 = NA, q3 = NA, min = NA, max = NA,
               levels = paste(names(tb), as.integer(tb), sep = "=", collapse = "|"))
  }
})
out <- do.call(rbind, rows)
write.csv(out, stdout(), row.names = FALSE, na = "")
