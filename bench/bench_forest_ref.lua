-- bench_forest_ref.lua - the tree engine against the frozen binary forest
-- it replaced (bench/ref/forest_ref.c, engine/forest.c of commit e949f04
-- with its symbols renamed), compiled into one program
-- (build/bench_forest_ref) so that both run in the same process on the same
-- data, rounds alternating; prints the median times and their ratio
-- new/old (the promise: training ratio <= 1.05). `make bench BENCH=forest_ref`.
--   SYLVA_BENCH_REF="n trees rounds threads"   default "20000 100 9 1";
--   the full size is "100000 500 3 1".
local bin = arg[-1] or "sylva"
local dir = bin:match("^(.*)/[^/]*$") or "."
local args = os.getenv("SYLVA_BENCH_REF") or "20000 100 9 1"
local ok = os.execute(("%q/bench_forest_ref %s"):format(dir, args))
if not ok then error("bench_forest_ref failed") end
