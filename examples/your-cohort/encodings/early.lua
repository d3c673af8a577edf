-- early.lua - the registry export (data/rotterdam_registry.csv), patients
-- operated on in 1978-1988: the development "centre". late.lua extends it
-- for 1989-1993. docs/your-cohort.md builds this file step by step.
local H = 5 * 365.25                             -- 5 years, in days

-- event-free survival from the raw columns: the recurrence time if there
-- was a recurrence, else the time to death or last contact
local function efs(r)
  local rec = r["Distant or local recurrence"]
  if rec == nil then return nil end              -- blank: unknown
  if rec == "Yes" then return r["Days from surgery to recurrence or last follow-up"], 1 end
  return r["Days from surgery to death or last contact"], r["Vital status at last contact"] == "Dead" and 1 or 0
end
local FROM = {"Distant or local recurrence", "Days from surgery to recurrence or last follow-up",
              "Vital status at last contact", "Days from surgery to death or last contact"}

return {
  centre = "1978-1988",
  id = "Patient ID",
  na = {"", "NA", "Unknown", "n.d.", "not assessed"},
  keep = function(row) return row["Year of primary surgery"] <= 1988 end,
  features = {
    {name = "age", column = "Age at primary surgery (years)", kind = "numeric", range = {18, 100},
     label = "Age (years)"},
    {name = "postmenopausal", column = "Menopausal status at diagnosis", kind = "binary",
     yes = {"Postmenopausal"}, no = {"Premenopausal"}, label = "Postmenopausal"},
    {name = "size", column = "Pathological tumour size category", kind = "ordinal",
     levels = {{"T1 (<=20 mm)"}, {"T2 (21-50 mm)"}, {"T3 (>50 mm)"}}, label = "Tumour size (T1-T3)"},
    {name = "grade3", column = "Histological differentiation grade", kind = "binary",
     yes = {"Grade III"}, no = {"Grade II"}, label = "Grade III"},
    {name = "nodes", column = "Number of positive axillary lymph nodes", kind = "numeric", range = {0, 60},
     label = "Positive lymph nodes"},
    {name = "pgr", column = "Progesterone receptor (fmol/l)", kind = "numeric", range = {0, 6000},
     label = "Progesterone receptor (fmol/l)"},
    {name = "er", column = "Oestrogen receptor (fmol/l)", kind = "numeric", range = {0, 6000},
     label = "Oestrogen receptor (fmol/l)"},
    {name = "hormon", column = "Adjuvant hormonal therapy", kind = "binary", yes = {"Yes"}, no = {"No"},
     label = "Hormonal therapy"},
    {name = "chemo", column = "Adjuvant chemotherapy", kind = "binary", yes = {"Yes"}, no = {"No"},
     label = "Chemotherapy"},
  },
  impute = {["*"] = "mode", age = "median", pgr = "median", er = "median"},
  outcomes = {
    -- 1: recurrence or death within 5 years; 0: followed beyond 5 years
    -- without either; missing: censored before 5 years, or recurrence blank
    event5 = {kind = "derived", from = FROM, binary = true, label = "Recurrence or death within 5 years",
              fn = function(r)
                local t, e = efs(r)
                if t == nil then return nil end
                if e == 1 and t <= H then return 1 elseif t > H then return 0 end
              end},
    efs_years = {kind = "derived", from = FROM, range = {0, 40},
                 fn = function(r) local t = efs(r); return t and t / 365.25 end},
    efs_event = {kind = "derived", from = FROM, binary = true, label = "Recurrence or death",
                 fn = function(r) return select(2, efs(r)) end},
    her2 = {column = "HER2 status", kind = "category", label = "HER2 status",
            levels = {positive = {"positive"}, negative = {"negative"}}, na = {"not recorded"}},
  },
}
