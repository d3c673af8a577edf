-- forest_sylva.lua - one benchmark run of sv.forest, started as a child
-- process by bench_forest.lua (so its peak RSS is measured alone):
--   sylva forest_sylva.lua train.csv test.csv threads trees mode
-- mode "load" only reads the data (the baseline RSS); "run" trains and
-- predicts and prints: RESULT train_wall train_cpu predict_wall predict_cpu auc
local sv = require "sylva"
local train_path, test_path, threads, trees, mode = arg[1], arg[2], tonumber(arg[3]), tonumber(arg[4]), arg[5]

local function load(path)
  local d = sv.read_csv(path)
  local names = {}
  for _, nm in ipairs(d:names()) do if nm ~= "y" then names[#names + 1] = nm end end
  return d:matrix(names), d:col("y")
end

-- Mann-Whitney AUC with mid-ranks (the same formula in every peer script)
local function auc(y, s)
  local idx = {}
  for i = 1, #y do idx[i] = i end
  table.sort(idx, function(a, b) return s[a] < s[b] end)
  local r, i, n1 = 0, 1, 0
  while i <= #idx do
    local j = i
    while j < #idx and s[idx[j + 1]] == s[idx[i]] do j = j + 1 end
    for k = i, j do if y[idx[k]] == 1 then r, n1 = r + (i + j) / 2, n1 + 1 end end
    i = j + 1
  end
  return (r - n1 * (n1 + 1) / 2) / (n1 * (#y - n1))
end

local X, y = load(train_path)
local Xt, yt = load(test_path)
if mode == "load" then print("RESULT 0 0 0 0 0") return end
local w0, c0 = sv.clock(), os.clock()
local f = sv.forest.train(X, y, {trees = trees, mtry = "sqrt", min_leaf = 1, threads = threads, seed = 1})
local w1, c1 = sv.clock(), os.clock()
local p = f:predict(Xt, {threads = threads})
local w2, c2 = sv.clock(), os.clock()
print(("RESULT %.4f %.4f %.4f %.4f %.6f"):format(w1 - w0, c1 - c0, w2 - w1, c2 - c1, auc(yt, p)))
