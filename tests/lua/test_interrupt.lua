-- Ctrl-C in the REPL (docs/reliability.md, "Interrupt"): through a real
-- pseudo-terminal (tests/tools/sylva_pty.c), a Ctrl-C during Lua code,
-- forest training or SHAP returns to the prompt with "interrupted", the
-- session keeps its variables and keeps working, a Ctrl-C at the prompt
-- abandons the line instead of ending the session, and the process exits
-- with status 0 at Ctrl-D. (Expected texts never occur in the echoed
-- command itself: print('do' .. 'ne') is awaited as "done".) In the sanitized build the exit status includes
-- LeakSanitizer's verdict, so an interrupt that leaks fails here.
local T = require "testing"
local sv = require "sylva"

local build = os.getenv("SYLVA_BUILD") or "build"
local bin = os.getenv("SYLVA_BIN") or (build .. "/sylva")
local driver = build .. "/sylva_pty"

local function drive(steps)
  local home = T.tmp .. "/pty-home"
  os.execute(("mkdir -p %q"):format(home))
  local script = T.tmp .. "/pty-steps.txt"
  local f = assert(io.open(script, "w"))
  f:write(table.concat(steps, "\n"), "\n")
  f:close()
  local cmd = ("HOME=%q TERM=dumb timeout -s KILL 240 %q %q < %q 2>&1"):format(
    home, driver, bin, script)
  local p = assert(io.popen(cmd))
  local out = p:read("a")
  local ok = p:close()
  return ok, out
end

T.test("Ctrl-C stops a Lua loop and at the prompt abandons the line; the session goes on", function()
  local ok, out = drive({
    "expect > ",
    "send kept = 41",
    "send x = 0 while true do x = x + 1 end",
    "sleep 1",
    "intr",
    "expect interrupted",
    "send print(kept + 1)",
    "expect 42",
    -- the prompt is back (rather than a fixed pause, which a loaded
    -- machine can outlast): this Ctrl-C lands at the prompt
    "expect > ",
    "intr",
    "sleep 0.3",
    "send for i = 1, 2 do",
    "expect >>",
    "intr",
    -- the unfinished chunk is dropped: the next line runs on its own
    "sleep 0.5",
    "send print('still ' .. kept)",
    "expect still 41",
    "expect > ",
    "sleep 0.3",
    "eof",
    "wait",
  })
  T.ok(ok, out)
end)

local data_lines = {
  "send r = sv.rng(7) X = {} y = {} for i = 1, 3000 do X[i] = {r:normal(), r:normal(), r:normal(), r:normal()} y[i] = r:integer(0, 1) end",
}

T.test("Ctrl-C during forest training returns to the prompt; training works again", function()
  local steps = {"expect > "}
  for _, l in ipairs(data_lines) do steps[#steps + 1] = l end
  for _, l in ipairs({
    "send f = sv.forest.train(X, y, {trees = 200000, seed = 1, threads = 2})",
    "sleep 2",
    "intr",
    "expect interrupted",
    "send print('f is', f)",
    "expect f is\tnil",
    "send g = sv.forest.train(X, y, {trees = 4, seed = 1, threads = 2}) print('n', #g:predict(X))",
    "expect n\t3000",
    "send collectgarbage() print('do' .. 'ne')",
    "expect done",
    "expect > ",
    "sleep 0.3",
    "eof",
    "wait",
  }) do steps[#steps + 1] = l end
  local ok, out = drive(steps)
  T.ok(ok, out)
end)

T.test("Ctrl-C during SHAP returns to the prompt; SHAP works again", function()
  local steps = {"expect > "}
  for _, l in ipairs(data_lines) do steps[#steps + 1] = l end
  for _, l in ipairs({
    "send f = sv.forest.train(X, y, {trees = 300, seed = 1, threads = 2}) print('tra' .. 'ined')",
    "timeout 120",
    "expect trained",
    "timeout 30",
    "send big = {} for k = 1, 30 do for i = 1, 3000 do big[#big + 1] = X[i] end end print('rows', #big)",
    "expect rows\t90000",
    "send phi = sv.shap.tree(f, big, {threads = 2})",
    "sleep 2",
    "intr",
    "expect interrupted",
    "send print('phi is', phi)",
    "expect phi is\tnil",
    "send p2 = sv.shap.tree(f, {X[1], X[2]}, {threads = 2}) print('rows', p2:nrow())",
    "expect rows\t2",
    "expect > ",
    "sleep 0.3",
    "eof",
    "wait",
  }) do steps[#steps + 1] = l end
  local ok, out = drive(steps)
  T.ok(ok, out)
end)

T.test("Ctrl-C during a bootstrap in worker processes stops them all; the session goes on", function()
  local steps = {"expect > "}
  for _, l in ipairs(data_lines) do steps[#steps + 1] = l end
  for _, l in ipairs({
    "send yy = sv.vector(y) fit = function(rows) local f = sv.forest.train(sv.matrix(X):rows(rows), sv.split.take(yy, rows), {trees = 200}) return function(r) return f:predict(sv.matrix(X):rows(r)) end end",
    "send v = sv.validate.bootstrap(yy, fit, {B = 100000, threads = 2})",
    "sleep 3",
    "intr",
    "expect interrupted",
    "send print('v is', v)",
    "expect v is\tnil",
    -- no worker process is left behind (ps lists the session's children)
    "send left = 0 for c in io.popen('ps -o comm= --ppid $PPID'):lines() do if c:find('sylva') then left = left + 1 end end print('work' .. 'ers left', left)",
    "expect workers left\t0",
    "send w = sv.validate.bootstrap(yy, function(rows) return function(r) local p = {} for i = 1, #r do p[i] = 0.5 + 0.001 * (r[i] % 7) end return p end end, {B = 4, threads = 2}) print('fa' .. 'iled', w.failed)",
    "expect failed\t0",
    "expect > ",
    "sleep 0.3",
    "eof",
    "wait",
  }) do steps[#steps + 1] = l end
  local ok, out = drive(steps)
  T.ok(ok, out)
end)

T.done()
