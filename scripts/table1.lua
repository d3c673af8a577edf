-- table1.lua - the baseline-characteristics table ("Table 1") by set or by
-- class (sv.table1).
--
-- Categorical variables as n (%), continuous ones as mean ± SD when they
-- look normal and median [IQR] otherwise, with the p-value of the test
-- that fits: chi-square or Fisher's exact test (when an expected count is
-- below 5, Cochran's rule); Welch's t or one-way ANOVA for "normal"
-- variables; Wilcoxon rank-sum or Kruskal-Wallis otherwise. The tests are
-- sv.stats' (R's stats agrees to 1e-9); the one-way ANOVA F is computed
-- here with sv.stats.pf.
--
-- Normality rule (Shapiro-Wilk is not available): a continuous variable is
-- summarised as mean ± SD when |sample skewness G1| <= 1 in every group
-- (Bulmer 1979: |skewness| > 1 is "highly skewed"), else as median [IQR].
-- Declare `type = "normal"` or `"nonnormal"` to override.

local sv = require "sylva"
local M = {}
local args = require "sylva.args"
local isnan = args.isnan

local function is_missing(v)
  return v == nil or v == false or (type(v) == "number" and isnan(v))
end

local function tolist(v)
  if type(v) == "userdata" then return v:totable() end
  return v
end

local function level_less(a, b)
  local ta, tb = type(a), type(b)
  if ta ~= tb then return ta == "number" end
  return a < b
end

-- Columns accessor over a Frame, an encoded data set (sv.encode.apply) or
-- a plain table of columns.
local function columns_of(data)
  if type(data) == "userdata" or (type(data) == "table" and type(data.col) == "function") then
    return function(name)
      local ok, c = pcall(data.col, data, name)
      if ok then return tolist(c) end
    end, data:nrow()
  end
  if type(data) == "table" and data.X ~= nil and data.names and data.enc then
    -- encoded data: variables as the analyst reads them (sv.encode.columns),
    -- raw output columns (one-hot indicators) also reachable by name
    local cols, vars = require("sylva.encode").columns(data)
    local defaults = {}
    for _, v in ipairs(vars) do defaults[v.name] = v end
    return function(name)
      if cols[name] then return cols[name] end
      for _, nm in ipairs(data.names) do
        if nm == name then return data.X:col(name):totable() end
      end
    end, data.n, defaults, vars
  end
  if type(data) ~= "table" then error("bad argument #1 to 'table1' (Frame or table of columns expected)", 3) end
  local n
  for _, c in pairs(data) do n = #c; break end
  return function(name) return data[name] ~= nil and tolist(data[name]) or nil end, n or 0
end

-- Adjusted Fisher-Pearson skewness G1 (what SAS/SPSS/Excel report).
local function skewness(x)
  local n = #x
  if n < 3 then return 0 end
  local m = 0
  for _, v in ipairs(x) do m = m + v end
  m = m / n
  local m2, m3 = 0, 0
  for _, v in ipairs(x) do
    local d = v - m
    m2 = m2 + d * d; m3 = m3 + d * d * d
  end
  m2, m3 = m2 / n, m3 / n
  if m2 == 0 then return 0 end
  local g1 = m3 / m2 ^ 1.5
  return g1 * math.sqrt(n * (n - 1)) / (n - 2)
end
M.skewness = skewness

--- sv.table1.anova(samples) -> {statistic=, df={k-1, N-k}, p=}
-- One-way analysis of variance (R: summary(aov(x ~ g)), oneway.test(var.equal = TRUE)).
function M.anova(samples)
  if type(samples) ~= "table" or #samples < 2 then
    error("bad argument #1 to 'table1.anova' (array of at least 2 samples expected)", 2)
  end
  for a, s in ipairs(samples) do
    if type(s) ~= "table" or #s == 0 then
      error(("bad argument #1 to 'table1.anova' (sample %d is not a non-empty array of numbers)"):format(a), 2)
    end
    for i = 1, #s do
      if type(s[i]) ~= "number" then
        error(("bad argument #1 to 'table1.anova' (sample %d, element %d is %s)"):format(a, i, type(s[i])), 2)
      end
    end
  end
  local k, N, grand = #samples, 0, 0
  for _, s in ipairs(samples) do for _, v in ipairs(s) do grand = grand + v; N = N + 1 end end
  grand = grand / N
  local ssb, ssw = 0, 0
  for _, s in ipairs(samples) do
    local m = 0
    for _, v in ipairs(s) do m = m + v end
    m = m / #s
    ssb = ssb + #s * (m - grand) ^ 2
    for _, v in ipairs(s) do ssw = ssw + (v - m) ^ 2 end
  end
  local df1, df2 = k - 1, N - k
  local F = (ssb / df1) / (ssw / df2)
  return {statistic = F, df = {df1, df2}, p = sv.stats.pf(F, df1, df2, false), method = "One-way ANOVA"}
end

local function fmt_num(x, digits)
  if x == nil or isnan(x) then return "NA" end
  local s = string.format("%." .. digits .. "f", x)
  if s:match("^%-0%.?0*$") then s = s:sub(2) end
  return s
end

--- sv.table1.format_p(p) -> "< 0.001" or "0.034"
function M.format_p(p)
  if p == nil or isnan(p) then return "" end
  if p < 0.001 then return "< 0.001" end
  return string.format("%.3f", p)
end

local function count_of(s, lv)
  local c = 0
  for _, x in ipairs(s) do if x == lv then c = c + 1 end end
  return c
end

-- A variable entry as a record, with the encoding's defaults (label, type,
-- levels) under what the caller wrote.
local function resolve_var(v, vi, defaults)
  if type(v) == "string" then v = {name = v} end
  if type(v) ~= "table" or type(v.name) ~= "string" then
    error(("bad option 'vars' to table1 (entry %d needs a name)"):format(vi), 3)
  end
  if defaults and defaults[v.name] then
    local merged = {}
    for k, x in pairs(defaults[v.name]) do merged[k] = x end
    for k, x in pairs(v) do merged[k] = x end
    v = merged
  end
  return v
end

-- "categorical", "continuous", "normal" or "nonnormal", and the set of
-- distinct non-missing values. By default text columns and integer columns
-- with at most 5 distinct values are categorical.
local function variable_kind(col, n, v)
  local numeric, distinct, nd = true, {}, 0
  for i = 1, n do
    local x = col[i]
    if not is_missing(x) then
      if type(x) ~= "number" then numeric = false end
      if not distinct[x] then distinct[x] = true; nd = nd + 1 end
    end
  end
  local kind = v.type or "auto"
  if kind == "auto" then
    if not numeric or v.levels then kind = "categorical"
    else
      local ints = true
      for x in pairs(distinct) do if x ~= math.floor(x) then ints = false; break end end
      kind = (ints and nd <= 5) and "categorical" or "continuous"
    end
  end
  if kind ~= "categorical" and kind ~= "continuous" and kind ~= "normal" and kind ~= "nonnormal" then
    error(("bad option 'vars' to table1 (variable '%s': type must be categorical, continuous, normal or nonnormal)"):format(v.name), 3)
  end
  if kind ~= "categorical" and not numeric then
    error(("table1: variable '%s' is not numeric but declared %s"):format(v.name, kind), 3)
  end
  return kind, distinct
end

-- Non-missing values per group and overall, and the missing counts.
local function by_group(col, n, group_of, group_index, G)
  local samples, miss_by = {}, {}
  for k = 1, G do samples[k] = {}; miss_by[k] = 0 end
  local all, n_missing = {}, 0
  for i = 1, n do
    local x = col[i]
    local k = group_index[group_of[i]]
    if is_missing(x) then
      n_missing = n_missing + 1
      if k then miss_by[k] = miss_by[k] + 1 end
    else
      all[#all + 1] = x
      if k then local s = samples[k]; s[#s + 1] = x end
    end
  end
  return samples, all, n_missing, miss_by
end

local CHISQ = "\u{03C7}\u{00B2}"

-- The test of a categorical variable across groups: chi-square, or Fisher
-- when an expected count is below 5 (`forced` = "fisher"/"chisq" decides
-- instead). Empty levels and groups are dropped first (they carry no
-- information and would make expected counts zero). nil when fewer than
-- two levels or groups remain.
local function categorical_test(samples, levels, forced)
  local tab = {}
  for _, lv in ipairs(levels) do
    local r, s = {}, 0
    for k = 1, #samples do r[k] = count_of(samples[k], lv); s = s + r[k] end
    if s > 0 then tab[#tab + 1] = r end
  end
  local keep = {}
  for k = 1, #samples do
    local s = 0
    for _, r in ipairs(tab) do s = s + r[k] end
    if s > 0 then keep[#keep + 1] = k end
  end
  if #tab < 2 or #keep < 2 then return nil end
  local t = {}
  for a, r in ipairs(tab) do
    t[a] = {}
    for b, k in ipairs(keep) do t[a][b] = r[k] end
  end
  local chi = sv.stats.chisq_test(t)
  local min_exp = math.huge
  for _, r in ipairs(chi.expected) do for _, e in ipairs(r) do min_exp = math.min(min_exp, e) end end
  local want = forced or (min_exp < 5 and "fisher" or "chisq")
  if want == "fisher" then
    local ok, f = pcall(sv.stats.fisher_test, t)
    if ok then return {p = f.p_value, method = "Fisher's exact test", test = "Fisher"} end
    return {p = chi.p_value, method = chi.method, test = CHISQ, statistic = chi.statistic, df = chi.df,
            note = "Fisher's test too large; chi-square used"}
  end
  return {p = chi.p_value, method = chi.method, test = CHISQ, statistic = chi.statistic, df = chi.df}
end

-- The test of a continuous variable: Welch t / ANOVA for "normal"
-- variables, Wilcoxon / Kruskal-Wallis otherwise; empty groups left out.
local function continuous_test(samples, normal)
  local present = {}
  for _, s in ipairs(samples) do if #s > 0 then present[#present + 1] = s end end
  if #present < 2 then return nil end
  if #present == 2 then
    if normal then
      local t = sv.stats.t_test(present[1], present[2])
      return {p = t.p_value, statistic = t.statistic, df = t.df, method = t.method, test = "Welch t"}
    end
    local w = sv.stats.wilcox_test(present[1], present[2])
    return {p = w.p_value, statistic = w.statistic, method = w.method, test = "Wilcoxon"}
  end
  if normal then
    local a = M.anova(present)
    return {p = a.p, statistic = a.statistic, df = a.df, method = a.method, test = "ANOVA"}
  end
  local kw = sv.stats.kruskal_test(present)
  return {p = kw.p_value, statistic = kw.statistic, df = kw.df, method = kw.method, test = "Kruskal\u{2013}Wallis"}
end

local OPTS = {by = 1, vars = 1, groups = 1, overall = 1, p = 1, test = 1, digits = 1, pct_digits = 1,
              skew = 1, missing = 1, group_labels = 1, title = 1, other = 1}

-- Stands for every value outside a variable's declared levels when the
-- caller asks for an "other" row.
local OTHER = setmetatable({}, {__tostring = function() return "Other" end})

local function show_value(x)
  if math.type(x) == "float" and x == math.floor(x) then return string.format("%d", x) end
  return tostring(x)
end

--- sv.table1(data, opts) -> {columns=, rows=, tests=, notes=}
function M.build(data, opts)
  opts = args.opts(opts, OPTS, "table1", 2)
  local get, n, defaults, default_vars = columns_of(data)
  -- groups
  local by = opts.by
  if type(by) == "string" then
    local col = get(by)
    if not col then error(("bad option 'by' to table1 (no column '%s')"):format(by), 2) end
    by = col
  end
  by = tolist(by)
  local group_of, groups = {}, {}
  if by then
    if #by ~= n then error(("bad option 'by' to table1 (%d labels for %d rows)"):format(#by, n), 2) end
    local seen = {}
    for i = 1, n do
      local g = by[i]
      if not is_missing(g) then
        group_of[i] = g
        if not seen[g] then seen[g] = true; groups[#groups + 1] = g end
      end
    end
    if opts.groups then
      for _, g in ipairs(opts.groups) do
        if not seen[g] then error(("bad option 'groups' to table1 (no row in group '%s')"):format(tostring(g)), 2) end
      end
      groups = opts.groups
    else
      table.sort(groups, level_less)
    end
  end
  local G = #groups
  local show_overall = opts.overall ~= false or G == 0
  local show_p = opts.p ~= false and G >= 2
  local show_test = show_p and opts.test ~= false
  local digits, pdig = opts.digits or 1, opts.pct_digits or 1
  local skew_limit = opts.skew or 1
  local group_index = {}
  for k, g in ipairs(groups) do group_index[g] = k end

  -- header
  local gsize = {}
  for k = 1, G do gsize[k] = 0 end
  for i = 1, n do local k = group_index[group_of[i]]; if k then gsize[k] = gsize[k] + 1 end end
  local columns = {"Characteristic"}
  for k, g in ipairs(groups) do
    local label = (opts.group_labels and opts.group_labels[g]) or tostring(g)
    columns[#columns + 1] = ("%s (n = %d)"):format(label, gsize[k])
  end
  if show_overall then columns[#columns + 1] = ("Overall (n = %d)"):format(n) end
  if show_p then columns[#columns + 1] = "p" end
  if show_test then columns[#columns + 1] = "Test" end

  local rows, tests = {}, {}
  local used_tests = {}
  local function add_row(first, cells, p, test)
    local row = {first}
    for _, c in ipairs(cells) do row[#row + 1] = c end
    if show_p then row[#row + 1] = p or "" end
    if show_test then row[#row + 1] = test or "" end
    rows[#rows + 1] = row
  end

  local vars = opts.vars or default_vars
  if not vars then error("bad option 'vars' to table1 (a list of variables is required)", 2) end
  local function blank_cells()
    local c = {}
    for _ = 1, G + (show_overall and 1 or 0) do c[#c + 1] = "" end
    return c
  end
  for vi, v in ipairs(vars) do
    v = resolve_var(v, vi, defaults)
    local col = get(v.name)
    if not col then error(("table1: no variable '%s' in the data"):format(v.name), 2) end
    local label = v.label or v.name
    local kind, distinct = variable_kind(col, n, v)
    local d = v.digits or digits
    local samples, all, n_missing, miss_by = by_group(col, n, group_of, group_index, G)
    local rec

    if kind == "categorical" then
      local levels = v.levels
      local other_label
      if not levels then
        levels = {}
        for x in pairs(distinct) do levels[#levels + 1] = x end
        table.sort(levels, level_less)
      else
        -- A value outside the declared levels is never dropped: an error
        -- naming it, or (other = true / "label") one more row counting
        -- every such value.
        local declared, outside, n_out = {}, {}, 0
        for _, lv in ipairs(levels) do declared[lv] = true end
        for x in pairs(distinct) do
          if not declared[x] then outside[#outside + 1] = x; n_out = n_out + 1 end
        end
        if n_out > 0 then
          local other = v.other
          if other == nil then other = opts.other end
          if not other then
            table.sort(outside, level_less)
            local shown, count = {}, 0
            for i = 1, n do if not is_missing(col[i]) and not declared[col[i]] then count = count + 1 end end
            for a, x in ipairs(outside) do
              if a > 5 then shown[#shown + 1] = "..."; break end
              shown[#shown + 1] = ("'%s'"):format(show_value(x))
            end
            local lv_names = {}
            for a, lv in ipairs(levels) do lv_names[a] = show_value(lv) end
            error(("table1: variable '%s' has value%s %s (%d row%s) not in its levels (%s); add %s to levels or " ..
              "ask for an \"Other\" row (option other = true)"):format(v.name, n_out == 1 and "" or "s",
              table.concat(shown, ", "), count, count == 1 and "" or "s", table.concat(lv_names, ", "),
              n_out == 1 and "it" or "them"), 2)
          end
          other_label = type(other) == "string" and other or "Other"
          local function fold(smp)
            for a = 1, #smp do if not declared[smp[a]] then smp[a] = OTHER end end
          end
          for k = 1, G do fold(samples[k]) end
          fold(all)
          local with_other = {}
          for a, lv in ipairs(levels) do with_other[a] = lv end
          with_other[#with_other + 1] = OTHER
          levels = with_other
        end
      end
      if show_p then rec = categorical_test(samples, levels, v.test) end
      add_row(label .. ", n (%)", blank_cells(), rec and M.format_p(rec.p), rec and rec.test)
      local function n_pct(s, lv)
        if #s == 0 then return "0" end
        local c = count_of(s, lv)
        return ("%d (%s)"):format(c, fmt_num(100 * c / #s, pdig))
      end
      for _, lv in ipairs(levels) do
        local cells = {}
        for k = 1, G do cells[#cells + 1] = n_pct(samples[k], lv) end
        if show_overall then cells[#cells + 1] = n_pct(all, lv) end
        local name = lv == OTHER and other_label or (v.level_labels and v.level_labels[lv]) or show_value(lv)
        add_row("  " .. name, cells)
      end
    else
      local normal = kind == "normal"
      if kind == "continuous" then
        normal = true
        for _, smp in ipairs(G > 0 and samples or {all}) do
          if math.abs(skewness(smp)) > skew_limit then normal = false end
        end
      end
      local function summary(smp)
        if #smp == 0 then return "NA" end
        local st = sv.stats.summary(smp)
        if normal then return ("%s \u{00B1} %s"):format(fmt_num(st.mean, d), fmt_num(st.sd, d)) end
        return ("%s [%s, %s]"):format(fmt_num(st.median, d), fmt_num(st.q1, d), fmt_num(st.q3, d))
      end
      local cells = {}
      for k = 1, G do cells[#cells + 1] = summary(samples[k]) end
      if show_overall then cells[#cells + 1] = summary(all) end
      if show_p then rec = continuous_test(samples, normal) end
      add_row(label .. (normal and ", mean \u{00B1} SD" or ", median [IQR]"), cells,
              rec and M.format_p(rec.p), rec and rec.test)
    end
    if rec then tests[v.name] = rec; used_tests[rec.test] = rec.method end
    if n_missing > 0 and opts.missing ~= false then
      local cells = {}
      for k = 1, G do cells[#cells + 1] = tostring(miss_by[k]) end
      if show_overall then cells[#cells + 1] = tostring(n_missing) end
      add_row("  Missing, n", cells)
    end
  end

  -- the footnote names the tests actually used
  local parts = {}
  local order = {"\u{03C7}\u{00B2}", "Fisher", "Welch t", "ANOVA", "Wilcoxon", "Kruskal\u{2013}Wallis"}
  local full = {["\u{03C7}\u{00B2}"] = "\u{03C7}\u{00B2}: Pearson's chi-square test (Yates-corrected for 2 \u{00D7} 2)",
    Fisher = "Fisher: Fisher's exact test (an expected count < 5)", ["Welch t"] = "Welch t: Welch's two-sample t test",
    ANOVA = "ANOVA: one-way analysis of variance", Wilcoxon = "Wilcoxon: Wilcoxon rank-sum test",
    ["Kruskal\u{2013}Wallis"] = "Kruskal\u{2013}Wallis: Kruskal\u{2013}Wallis rank-sum test"}
  for _, t in ipairs(order) do if used_tests[t] then parts[#parts + 1] = full[t] end end
  local notes = ("Continuous variables: mean \u{00B1} SD when |skewness| \u{2264} %s in every group, else median [IQR]. " ..
    "Percentages of non-missing values."):format(tostring(skew_limit))
  if #parts > 0 then notes = notes .. " Tests: " .. table.concat(parts, "; ") .. "." end
  return {columns = columns, rows = rows, tests = tests, notes = notes, groups = groups, n = n}
end

return setmetatable(M, {__call = function(_, data, opts) return M.build(data, opts) end})
