-- gbsg.lua - the German Breast Cancer Study Group trial (R survival's
-- `gbsg`, tests/fixtures/data/gbsg.csv; see docs/data-sources.md), the
-- external validation cohort. Tumour size is in mm: it is mapped onto
-- Rotterdam's three size categories by listing the millimetre values of each
-- (sizes are whole millimetres; anything else is refused as an unknown
-- value). Grade runs 1-3 here (Rotterdam has only 2 and 3).
local function mm(lo, hi)
  local t = {}
  for v = lo, hi do t[#t + 1] = tostring(v) end
  return t
end

return {
  centre = "GBSG",
  na = {"", "NA"},
  features = {
    {name = "age", column = "age", kind = "numeric", range = {18, 100}, label = "Age (years)"},
    {name = "postmenopausal", column = "meno", kind = "binary", yes = {"1"}, no = {"0"}, label = "Postmenopausal"},
    {name = "size", column = "size", kind = "ordinal", levels = {mm(0, 20), mm(21, 50), mm(51, 300)},
     label = "Tumour size (1: <=20, 2: 21-50, 3: >50 mm)"},
    {name = "grade", column = "grade", kind = "numeric", range = {1, 3}, label = "Grade"},
    {name = "nodes", column = "nodes", kind = "numeric", range = {0, 60}, label = "Positive lymph nodes"},
    {name = "pgr", column = "pgr", kind = "numeric", range = {0, 6000}, label = "Progesterone receptor (fmol/l)"},
    {name = "er", column = "er", kind = "numeric", range = {0, 6000}, label = "Oestrogen receptor (fmol/l)"},
    {name = "hormon", column = "hormon", kind = "binary", yes = {"1"}, no = {"0"}, label = "Hormonal therapy"},
  },
  -- GBSG records recurrence-free survival directly (rfstime days, status);
  -- recur5 is the 5-year label, as for Rotterdam
  outcomes = {
    rfs_years = {kind = "derived", from = {"rfstime"}, range = {0, 30}, fn = function(r) return r.rfstime / 365.25 end},
    rfs_event = {column = "status", kind = "binary", yes = {"1"}, no = {"0"}, label = "Recurrence or death"},
    recur5 = {kind = "derived", from = {"rfstime", "status"}, binary = true,
              label = "Recurrence or death within 5 years",
              fn = function(r)
                if r.status == 1 and r.rfstime <= 5 * 365.25 then return 1
                elseif r.rfstime > 5 * 365.25 then return 0 end
              end},
  },
}
