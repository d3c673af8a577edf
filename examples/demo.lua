-- demo.lua - what `make demo` runs until the HER2 study lands: a short tour
-- of the data layer.
local sv = require "sylva"
local r = sv.rng(2024)
local rows = {}
for i = 1, 5 do rows[i] = {r:normal(60, 10), r:integer(1, 4)} end
local X = sv.matrix(rows, {"age", "fgt"})
print(X)
print("mean age:", (function() local s = 0 for _, v in ipairs(X:col("age")) do s = s + v end return s / X:nrow() end)())
