-- late.lua - the same registry, patients operated on in 1989-1993: the
-- external validation "centre". Everything as early.lua but the period.
return {
  base = "early.lua",
  centre = "1989-1993",
  keep = function(row) return row["Year of primary surgery"] >= 1989 end,
}
