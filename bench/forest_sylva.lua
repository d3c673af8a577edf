-- forest_sylva.lua - one benchmark run of sv.forest, started as a child
-- process by bench_forest.lua (so its peak RSS is measured alone):
--   sylva forest_sylva.lua train.csv test.csv threads trees mode
-- mode "load" only reads the data (the baseline RSS); "run" trains and
-- predicts and prints: RESULT train_wall train_cpu predict_wall predict_cpu auc
-- ("k3": a 3-class forest, the score Hand and Till's M; "reg": a regression
-- forest with mtry floor(sqrt(p)) (ranger's default), the score R^2; both
-- for bench_forest_kinds.lua)
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

local function hand_till(y, P)
  local s, pairs = 0, 0
  for a = 0, 2 do
    for b = a + 1, 2 do
      local ya, sa, sb = {}, {}, {}
      for i = 1, #y do
        if y[i] == a or y[i] == b then
          ya[#ya + 1] = y[i] == a and 1 or 0
          sa[#sa + 1], sb[#sb + 1] = P:get(i, a + 1), -P:get(i, b + 1)
        end
      end
      s, pairs = s + (auc(ya, sa) + auc(ya, sb)) / 2, pairs + 1
    end
  end
  return s / pairs
end

local function r2(y, p)
  local m, sse, sst = 0, 0, 0
  for i = 1, #y do m = m + y[i] / #y end
  for i = 1, #y do sse, sst = sse + (y[i] - p[i]) ^ 2, sst + (y[i] - m) ^ 2 end
  return 1 - sse / sst
end

local X, y = load(train_path)
local Xt, yt = load(test_path)
if mode == "load" then print("RESULT 0 0 0 0 0") return end
local w0, c0 = sv.clock(), os.clock()
local f
if mode == "reg" then
  f = sv.forest.regress(X, y, {trees = trees, mtry = "sqrt", min_leaf = 1, threads = threads, seed = 1})
else
  f = sv.forest.train(X, y, {trees = trees, mtry = "sqrt", min_leaf = 1, threads = threads, seed = 1})
end
local w1, c1 = sv.clock(), os.clock()
local p = f:predict(Xt, {threads = threads})
local w2, c2 = sv.clock(), os.clock()
local score = mode == "k3" and hand_till(yt, p) or mode == "reg" and r2(yt, p) or auc(yt, p)
print(("RESULT %.4f %.4f %.4f %.4f %.6f"):format(w1 - w0, c1 - c0, w2 - w1, c2 - c1, score))
