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

local function isnan(x) return x ~= x end

local function is_missing(v)
  return v == nil or v == false or (type(v) == "number" and isnan(v))
end

local function check_opts(opts, allowed, fname)
  opts = opts or {}
  if type(opts) ~= "table" then error(("bad argument #2 to '%s' (options table expected)"):format(fname), 3) end
  for k in pairs(opts) do
    if not allowed[k] then error(("unknown option '%s' to %s"):format(tostring(k), fname), 3) end
  end
  return opts
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

local OPTS = {by = 1, vars = 1, groups = 1, overall = 1, p = 1, test = 1, digits = 1, pct_digits = 1,
              skew = 1, missing = 1, group_labels = 1, title = 1}

--- sv.table1(data, opts) -> {columns=, rows=, tests=, notes=}
function M.build(data, opts)
  opts = check_opts(opts, OPTS, "table1")
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
  for vi, v in ipairs(vars) do
    if type(v) == "string" then v = {name = v} end
    if defaults and type(v) == "table" and defaults[v.name] then
      -- the spec's label, type and levels unless the caller says otherwise
      local merged = {}
      for k, x in pairs(defaults[v.name]) do merged[k] = x end
      for k, x in pairs(v) do merged[k] = x end
      v = merged
    end
    if type(v) ~= "table" or type(v.name) ~= "string" then
      error(("bad option 'vars' to table1 (entry %d needs a name)"):format(vi), 2)
    end
    local col = get(v.name)
    if not col then error(("table1: no variable '%s' in the data"):format(v.name), 2) end
    local label = v.label or v.name
    -- the kind of variable
    local kind = v.type or "auto"
    local numeric = true
    local distinct, nd = {}, 0
    for i = 1, n do
      local x = col[i]
      if not is_missing(x) then
        if type(x) ~= "number" then numeric = false end
        if not distinct[x] then distinct[x] = true; nd = nd + 1 end
      end
    end
    if kind == "auto" then
      if not numeric or v.levels then kind = "categorical"
      else
        local ints = true
        for x in pairs(distinct) do if x ~= math.floor(x) then ints = false; break end end
        kind = (ints and nd <= 5) and "categorical" or "continuous"
      end
    end
    if kind ~= "categorical" and kind ~= "continuous" and kind ~= "normal" and kind ~= "nonnormal" then
      error(("bad option 'vars' to table1 (variable '%s': type must be categorical, continuous, normal or nonnormal)"):format(v.name), 2)
    end
    if kind ~= "categorical" and not numeric then
      error(("table1: variable '%s' is not numeric but declared %s"):format(v.name, kind), 2)
    end
    local d = v.digits or digits

    -- samples per group (and overall)
    local samples = {}
    for k = 1, G do samples[k] = {} end
    local all, n_missing, miss_by = {}, 0, {}
    for k = 1, G do miss_by[k] = 0 end
    local labels_for_test, groups_for_test = {}, {}
    for i = 1, n do
      local x = col[i]
      local k = group_index[group_of[i]]
      if is_missing(x) then
        n_missing = n_missing + 1
        if k then miss_by[k] = miss_by[k] + 1 end
      else
        all[#all + 1] = x
        if k then
          local s = samples[k]
          s[#s + 1] = x
          labels_for_test[#labels_for_test + 1] = x
          groups_for_test[#groups_for_test + 1] = groups[k]
        end
      end
    end

    if kind == "categorical" then
      local levels = v.levels
      if not levels then
        levels = {}
        for x in pairs(distinct) do levels[#levels + 1] = x end
        table.sort(levels, level_less)
      end
      local p_str, test_name, rec
      if show_p then
        -- r x c counts, levels as rows, groups as columns
        local tab = {}
        for li, lv in ipairs(levels) do
          tab[li] = {}
          for k = 1, G do
            local c = 0
            for _, x in ipairs(samples[k]) do if x == lv then c = c + 1 end end
            tab[li][k] = c
          end
        end
        -- drop empty rows/columns (they carry no information and make the
        -- expected counts zero)
        local t2 = {}
        for _, r in ipairs(tab) do
          local s = 0
          for _, c in ipairs(r) do s = s + c end
          if s > 0 then t2[#t2 + 1] = r end
        end
        local keep = {}
        for k = 1, G do
          local s = 0
          for _, r in ipairs(t2) do s = s + r[k] end
          if s > 0 then keep[#keep + 1] = k end
        end
        local t3 = {}
        for a, r in ipairs(t2) do
          t3[a] = {}
          for b, k in ipairs(keep) do t3[a][b] = r[k] end
        end
        if #t3 >= 2 and #keep >= 2 then
          local chi = sv.stats.chisq_test(t3)
          local min_exp = math.huge
          for _, r in ipairs(chi.expected) do for _, e in ipairs(r) do min_exp = math.min(min_exp, e) end end
          local want = v.test
          if want == nil then want = min_exp < 5 and "fisher" or "chisq" end
          if want == "fisher" then
            local ok, f = pcall(sv.stats.fisher_test, t3)
            if ok then rec = {p = f.p_value, method = "Fisher's exact test", test = "Fisher"}
            else rec = {p = chi.p_value, method = chi.method, test = "\u{03C7}\u{00B2}", statistic = chi.statistic,
                        note = "Fisher's test too large; chi-square used"} end
          else
            rec = {p = chi.p_value, method = chi.method, test = "\u{03C7}\u{00B2}", statistic = chi.statistic, df = chi.df}
          end
          p_str, test_name = M.format_p(rec.p), rec.test
        end
      end
      add_row(label .. ", n (%)", (function()
        local c = {}
        for _ = 1, G do c[#c + 1] = "" end
        if show_overall then c[#c + 1] = "" end
        return c
      end)(), p_str, test_name)
      for _, lv in ipairs(levels) do
        local cells = {}
        for k = 1, G do
          local c = 0
          for _, x in ipairs(samples[k]) do if x == lv then c = c + 1 end end
          local tot = #samples[k]
          cells[#cells + 1] = tot > 0 and ("%d (%s)"):format(c, fmt_num(100 * c / tot, pdig)) or "0"
        end
        if show_overall then
          local c = 0
          for _, x in ipairs(all) do if x == lv then c = c + 1 end end
          cells[#cells + 1] = #all > 0 and ("%d (%s)"):format(c, fmt_num(100 * c / #all, pdig)) or "0"
        end
        local name = (v.level_labels and v.level_labels[lv]) or
          (type(lv) == "number" and lv == math.floor(lv) and string.format("%d", lv)) or tostring(lv)
        add_row("  " .. name, cells)
      end
      if rec then tests[v.name] = rec; used_tests[rec.test] = rec.method end
    else
      -- continuous: normal or not
      local normal
      if kind == "normal" then normal = true
      elseif kind == "nonnormal" then normal = false
      else
        normal = true
        local sets = G > 0 and samples or {all}
        for _, s in ipairs(sets) do
          if math.abs(skewness(s)) > skew_limit then normal = false end
        end
      end
      local function summary(s)
        if #s == 0 then return "NA" end
        local st = sv.stats.summary(s)
        if normal then
          return ("%s \u{00B1} %s"):format(fmt_num(st.mean, d), fmt_num(st.sd, d))
        end
        return ("%s [%s, %s]"):format(fmt_num(st.median, d), fmt_num(st.q1, d), fmt_num(st.q3, d))
      end
      local cells = {}
      for k = 1, G do cells[#cells + 1] = summary(samples[k]) end
      if show_overall then cells[#cells + 1] = summary(all) end
      local p_str, test_name, rec
      local nonempty = 0
      for k = 1, G do if #samples[k] > 0 then nonempty = nonempty + 1 end end
      if show_p and nonempty >= 2 then
        local present = {}
        for k = 1, G do if #samples[k] > 0 then present[#present + 1] = samples[k] end end
        if #present == 2 then
          if normal then
            local t = sv.stats.t_test(present[1], present[2])
            rec = {p = t.p_value, statistic = t.statistic, df = t.df, method = t.method, test = "Welch t"}
          else
            local w = sv.stats.wilcox_test(present[1], present[2])
            rec = {p = w.p_value, statistic = w.statistic, method = w.method, test = "Wilcoxon"}
          end
        else
          if normal then
            local a = M.anova(present)
            rec = {p = a.p, statistic = a.statistic, df = a.df, method = a.method, test = "ANOVA"}
          else
            local kw = sv.stats.kruskal_test(present)
            rec = {p = kw.p_value, statistic = kw.statistic, df = kw.df, method = kw.method, test = "Kruskal\u{2013}Wallis"}
          end
        end
        p_str, test_name = M.format_p(rec.p), rec.test
        tests[v.name] = rec
        used_tests[rec.test] = rec.method
      end
      add_row(label .. (normal and ", mean \u{00B1} SD" or ", median [IQR]"), cells, p_str, test_name)
    end
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
