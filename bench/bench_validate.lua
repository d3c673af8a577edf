-- bench_validate.lua - the optimism bootstrap of a Task-1-like forest
-- pipeline (grid search by 3-fold CV, ranking, top-4 selection, final
-- forest; bench/validate_sylva.lua) against the same loop in R (ranger +
-- pROC + glm; bench/validate_r.R), CPU time per replicate, one thread each,
-- in the same run. sylva is run twice: ranking by out-of-bag permutation
-- importance (R's method: the like-for-like ratio) and by mean |TreeSHAP|
-- (what the HER2 study does; exact SHAP costs more than a permutation).
--   make bench BENCH=validate          (VALIDATE_B replicates, default 5)
local sv = require "sylva"
local bin = arg[-1] or "sylva"
local B = tonumber(os.getenv("VALIDATE_B") or "5")
local tmp = os.getenv("SYLVA_TMP") or "/tmp"

local function cpu_of(cmd, log)
  local ok = os.execute(("%s > %q 2>&1"):format(cmd, log))
  local f = io.open(log)
  local text = f and f:read("a") or ""
  if f then f:close() end
  local v = text:match("cpu_per_replicate ([%d.]+)")
  if not ok or not v then return nil, text end
  return tonumber(v), text
end

local results = {}
for _, rank in ipairs({"permutation", "shap"}) do
  local c, text = cpu_of(("%q bench/validate_sylva.lua %d 1 %s"):format(bin, B, rank), tmp .. "/bench_validate_" .. rank .. ".log")
  if not c then print("sylva failed:\n" .. text); os.exit(1) end
  results[rank] = c
  print(("sylva  ranking by %-12s CPU per replicate %7.3f s   %s"):format(rank, c, text:match("corrected AUC[^\n]*")))
end
local have_r = os.execute("Rscript -e 'suppressMessages({library(ranger); library(pROC)})' > /dev/null 2>&1")
if not have_r then
  print("R with ranger and pROC not installed: peer skipped")
  return
end
local cr, text = cpu_of(("Rscript bench/validate_r.R %d 1"):format(B), tmp .. "/bench_validate_r.log")
if not cr then print("R failed:\n" .. text); os.exit(1) end
print(("R      ranger permutation      CPU per replicate %7.3f s   %s"):format(cr, text:match("corrected AUC[^\n]*")))
print(("ratio  R / sylva (permutation ranking, like for like): %.1fx"):format(cr / results.permutation))
print(("ratio  R / sylva (SHAP ranking in sylva):              %.1fx"):format(cr / results.shap))
print(("(B = %d replicates, one thread each; at B = 200 sylva's SHAP pipeline needs about %.0f CPU s)"):format(
  B, 200 * results.shap))
