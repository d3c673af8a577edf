-- rotterdam.lua - the Rotterdam tumour bank (R survival's `rotterdam`,
-- tests/fixtures/data/rotterdam.csv; see docs/data-sources.md), the
-- development cohort. Tumour size is recorded as a category, grade as 2 or 3,
-- and chemotherapy exists only here (GBSG has no such column), so it is not a
-- feature. The outcomes are derived from the raw recurrence and death
-- columns (below).
local FROM = {"rtime", "recur", "dtime", "death"}

-- days to recurrence-free-survival event or censoring, and the event (0/1)
local function rfs(r)
  local ignore = r.recur == 0 and r.death == 1 and r.rtime < r.dtime
  if r.recur == 1 or ignore then return r.rtime, r.recur end
  return r.dtime, r.death
end

-- the label at `years`: 1 event by then, 0 followed beyond, nil unknown
local function within(years, days, event)
  local h = years * 365.25
  if event == 1 and days <= h then return 1 elseif days > h then return 0 end
  return nil
end

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
  -- development on node-positive patients only: GBSG enrolled only those
  -- (Royston & Altman 2013 did the same)
  keep = function(row) return row.nodes > 0 end,
  -- Recurrence-free survival (recurrence or death), as GBSG records it,
  -- derived from the raw recurrence and death columns conservatively (R's
  -- ?rotterdam, `rfs2`): the recurrence time if there was one, else the
  -- death time, except that a death after the last recurrence follow-up is
  -- not counted. recur5 is the 5-year label: 1 event within 5 years, 0
  -- followed beyond 5 years without it, missing (nil) if censored before.
  outcomes = {
    rfs_years = {kind = "derived", from = FROM, range = {0, 30}, fn = function(r) return rfs(r) / 365.25 end},
    rfs_event = {kind = "derived", from = FROM, binary = true, label = "Recurrence or death",
                 fn = function(r) return select(2, rfs(r)) end},
    recur5 = {kind = "derived", from = FROM, binary = true, label = "Recurrence or death within 5 years",
              fn = function(r) return within(5, rfs(r)) end},
  },
}
