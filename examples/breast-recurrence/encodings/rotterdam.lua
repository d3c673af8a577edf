-- rotterdam.lua - the Rotterdam tumour bank (R survival's `rotterdam`,
-- tests/fixtures/data/rotterdam.csv; see docs/data-sources.md), the
-- development cohort. Tumour size is recorded as a category, grade as 2 or 3,
-- and chemotherapy exists only here (GBSG has no such column), so it is not a
-- feature. Outcomes are the raw recurrence and death columns: the study
-- derives recurrence-free survival from them (study.lua, `rfs`).
return {
  centre = "Rotterdam",
  na = {"", "NA"},
  features = {
    {name = "age", column = "age", kind = "numeric", range = {18, 100}, label = "Age (years)"},
    {name = "postmenopausal", column = "meno", kind = "binary", yes = {"1"}, no = {"0"}, label = "Postmenopausal"},
    {name = "size", column = "size", kind = "ordinal", levels = {{"<=20"}, {"20-50"}, {">50"}},
     label = "Tumour size (1: <=20, 2: 21-50, 3: >50 mm)"},
    {name = "grade", column = "grade", kind = "numeric", range = {1, 3}, label = "Grade"},
    {name = "nodes", column = "nodes", kind = "numeric", range = {0, 60}, label = "Positive lymph nodes"},
    {name = "pgr", column = "pgr", kind = "numeric", range = {0, 6000}, label = "Progesterone receptor (fmol/l)"},
    {name = "er", column = "er", kind = "numeric", range = {0, 6000}, label = "Oestrogen receptor (fmol/l)"},
    {name = "hormon", column = "hormon", kind = "binary", yes = {"1"}, no = {"0"}, label = "Hormonal therapy"},
  },
  outcomes = {
    rtime = {column = "rtime", kind = "numeric", range = {0, 10000}},   -- days to recurrence or last follow-up
    recur = {column = "recur", kind = "binary", yes = {"1"}, no = {"0"}},
    dtime = {column = "dtime", kind = "numeric", range = {0, 10000}},   -- days to death or last follow-up
    death = {column = "death", kind = "binary", yes = {"1"}, no = {"0"}},
  },
}
