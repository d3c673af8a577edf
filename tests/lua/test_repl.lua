-- The sylva executable driven from outside: command-line behaviour (after
-- the stock lua), the REPL through a pipe (expression printing, tables,
-- errors that do not end the session, multi-line input, help), and through
-- a pseudo-terminal (util-linux `script`): tab completion, Ctrl-C during a
-- computation and at the prompt, persistent history.
local T = require "testing"

local BIN = assert(os.getenv("SYLVA_BIN"), "SYLVA_BIN not set")
local TMP = T.tmp .. "/repl"
os.execute(("mkdir -p %q"):format(TMP))

local function write(path, text)
  local f = assert(io.open(path, "wb"))
  f:write(text)
  f:close()
end

local function read(path)
  local f = io.open(path, "rb")
  if not f then return "" end
  local s = f:read("a")
  f:close()
  return s
end

-- Runs a shell command line; returns stdout, stderr and the exit status.
local function run(cmdline, stdin)
  local inp = TMP .. "/stdin.txt"
  write(inp, stdin or "")
  local ok, _, code = os.execute(("( %s ) < %q > %q 2> %q"):format(
    cmdline, inp, TMP .. "/out.txt", TMP .. "/err.txt"))
  return read(TMP .. "/out.txt"), read(TMP .. "/err.txt"), ok and 0 or code
end

local function has(s, frag, what)
  if not s:find(frag, 1, true) then
    error(("%s: %q not found in:\n%s"):format(what or "output", frag, s), 2)
  end
end

local function bin() return ("%q"):format(BIN) end

---------------------------------------------------------------------------
-- Command line
---------------------------------------------------------------------------

T.test("-e runs code; --version and --help print and exit 0", function()
  local out, _, code = run(bin() .. " -e 'print(1 + 1)'")
  T.eq(out, "2\n")
  T.eq(code, 0)
  out = run(bin() .. " --version")
  has(out, "sylva 0.1")
  has(out, "Lua 5.4")
  out, _, code = run(bin() .. " --help")
  has(out, "usage:")
  T.eq(code, 0)
  local _, err
  _, err, code = run(bin() .. " --bogus")
  has(err, "unrecognized option")
  T.ok(code ~= 0, "bad option fails")
end)

T.test("a script gets arg and ... as with lua; errors give status 1", function()
  local script = TMP .. "/args.lua"
  write(script, "print(arg[0], arg[1], arg[2], #arg, select('#', ...), ...)\n")
  local out, _, code = run(bin() .. (" %q a 'b c'"):format(script))
  T.eq(out, script .. "\ta\tb c\t2\t2\ta\tb c\n")
  T.eq(code, 0)
  write(script, "error('boom')\n")
  local _, err
  _, err, code = run(bin() .. (" %q"):format(script))
  has(err, "boom", "stderr")
  has(err, "stack traceback", "stderr")
  T.eq(code, 1)
  _, err, code = run(bin() .. (" %q"):format(TMP .. "/no_such_script.lua"))
  has(err, "cannot open", "stderr")
  T.eq(code, 1)
end)

T.test("- runs stdin as a script; -l loads a module into a global", function()
  local out = run(bin() .. " -", "print('from stdin', 6 * 7)\n")
  T.eq(out, "from stdin\t42\n")
  out = run(bin() .. " -l sylva -e 'print(type(sylva.read_csv))'")
  T.eq(out, "function\n")
end)

T.test("inside sylva: require 'sylva' and require 'lfs' work", function()
  local out, err = run(bin() .. " -e 'local sv = require \"sylva\"; local lfs = require \"lfs\"; print(type(sv.frame), lfs.attributes(\".\", \"mode\"))'")
  T.eq(out, "function\tdirectory\n", err)
end)

---------------------------------------------------------------------------
-- The REPL through a pipe (stdin is not a terminal: no prompt, no history)
---------------------------------------------------------------------------

T.test("REPL on a pipe: expressions print, errors do not end the session", function()
  local input = table.concat({
    "1 + 1",
    "'a', nil, 3",
    "x = 10",                                -- a statement prints nothing
    "x * 2",
    "error('boom')",
    "print('still here', x)",
    "function f(a)",                         -- a chunk over three lines
    "  return a * 2",
    "end",
    "f(21)",
    "{1, 2, k = {1, {2, {3}}}}",             -- nested beyond the depth limit
    "sv.vector({1, 2})",
    "sv.parse_csv('a,b\\n1,x\\n')",
    "local y = 5; return y",
  }, "\n") .. "\n"
  local out, err, code = run(bin(), input)
  T.eq(code, 0)
  local want = {
    "2",
    '"a"\tnil\t3',
    "20",
    "still here\t10",
    "42",
    "{1, 2, k = {1, {...}}}",
    "Vector(2) [1, 2]",
    "Frame: 1 row x 2 columns",
    "5",
  }
  local pos = 1
  for _, w in ipairs(want) do
    local at = out:find(w, pos, true)
    if not at then error(("%q missing (in order) from:\n%s"):format(w, out)) end
    pos = at + #w
  end
  has(err, "boom", "stderr")
  has(err, "stack traceback", "stderr")
  T.ok(not out:find("> ", 1, true), "no prompt on a pipe")
end)

T.test("REPL tables: depth and length limits, cycles, strings quoted", function()
  local input = table.concat({
    "t = {} for i = 1, 30 do t[i] = i end",
    "t",
    "c = {name = 'x'} c.self = c",
    "c",
  }, "\n") .. "\n"
  local out = run(bin(), input)
  has(out, "... (10 more)")
  has(out, '{name = "x", self = <cycle>}')
end)

T.test("REPL: help(sv.read_csv) prints its documentation", function()
  local out = run(bin(), "help(sv.read_csv)\nhelp()\n")
  has(out, "### `sv.read_csv(path [, opts])`")
  has(out, "RFC 4180")
  has(out, "(from docs/data.md)")
  has(out, "help(sv.read_csv)")
  out = run(bin(), "d = sv.parse_csv('a\\n1\\n')\nhelp(d)\nhelp('d:col')\nhelp('help')\n")
  has(out, "## Frames")
  has(out, "### `d:col(name)`")
  has(out, "(from docs/sylva.md)")
end)

T.test("REPL: unfinished input at the end is reported, status 0", function()
  local out, err, code = run(bin(), "for i = 1, 3 do\n")
  has(err, "incomplete", "stderr")
  T.eq(code, 0)
  T.eq(out, "")
end)

T.test("-i runs the script, then the REPL sees its globals", function()
  local script = TMP .. "/setup.lua"
  write(script, "answer = 41\n")
  local out = run(bin() .. (" -i %q"):format(script), "answer + 1\n")
  T.eq(out, "42\n")
end)

---------------------------------------------------------------------------
-- The REPL on a pseudo-terminal (util-linux `script`)
---------------------------------------------------------------------------

local function have_script()
  local ok = os.execute("command -v script > /dev/null 2>&1")
  return ok
end

if not have_script() then
  print("skipping the pseudo-terminal tests: util-linux 'script' not found")
else
  T.test("REPL on a terminal: completion, Ctrl-C in a loop and at the prompt, history", function()
    local home = TMP .. "/home"
    os.execute(("rm -rf %q; mkdir -p %q"):format(home, home))
    local looping, done42, training = TMP .. "/looping", TMP .. "/done42", TMP .. "/training"
    os.remove(looping)
    os.remove(done42)
    os.remove(training)
    -- The driver types lines into the terminal; it waits for marker files
    -- before sending Ctrl-C so that the signal lands where it should.
    local driver = TMP .. "/drive.sh"
    write(driver, table.concat({
      -- up to 60 s per marker: on a loaded machine (or under the sanitizers)
      -- a shorter cap let the driver go on and send Ctrl-C too early
      "wait_for() { n=0; while [ ! -f \"$1\" ] && [ $n -lt 1200 ]; do sleep 0.05; n=$((n+1)); done; }",
      "sleep 0.3",
      "printf 'x = 1\\n'",
      "printf 'sv.read_c\\t'", "sleep 0.3",
      "printf '\"/nonexistent/file.csv\")\\n'",
      ("printf 'io.open(\"%s\", \"w\"):close() while true do end\\n'"):format(looping),
      ("wait_for %q"):format(looping), "sleep 0.3",
      "printf '\\003'", "sleep 0.3",
      ("printf 'print(x + 41) io.open(\"%s\", \"w\"):close()\\n'"):format(done42),
      -- a Ctrl-C must reach readline, not the moment between two lines:
      -- generous pauses, the machine may be loaded
      ("wait_for %q"):format(done42), "sleep 1",
      "printf 'garbage that is not Lua'", "sleep 0.3",
      "printf '\\003'", "sleep 0.3",
      "printf 'print(\"after\" .. \"ctrl-c\")\\n'", "sleep 0.3",
      "printf 'for i = 1, 2 do\\n'", "sleep 1",
      "printf '\\003'", "sleep 0.3",
      "printf 'print(\"fresh\" .. \"chunk\")\\n'", "sleep 0.3",
      -- engine work (a forest far too big to finish) stops on Ctrl-C
      ("printf 'd = sv.read_csv(\"%s\") X = d:matrix({\"age\", \"size\", \"nodes\"})\\n'"):format(
        T.root .. "/tests/fixtures/data/gbsg.csv"),
      ("printf 'io.open(\"%s\", \"w\"):close() f = sv.forest.train(X, d:col(\"status\"), {trees = 1000000, threads = 1})\\n'"):format(training),
      ("wait_for %q"):format(training), "sleep 1",
      "printf '\\003'", "sleep 0.5",
      "printf 'print(f == nil, \"engine\" .. \"stopped\")\\n'", "sleep 0.3",
      "printf '\\004'",
    }, "\n") .. "\n")
    -- `script -c` runs its command through $SHELL. With SHELL unset or
    -- /bin/sh (as under CI), dash stayed between script and sylva, took the
    -- Ctrl-C itself and died of it (status 130); `exec` puts sylva directly
    -- on the terminal whatever the shell.
    local cmd = ("HOME=%q; TERM=dumb; SHELL=/bin/sh; export HOME TERM SHELL; sh %q | timeout 120 script -qfec %q /dev/null"):format(
      home, driver, "exec " .. ("%q"):format(BIN))
    local out, err, code = run(cmd)
    out = out:gsub("\r", "")
    T.eq(code, 0, "exit status (stderr: " .. err .. ")")
    -- completion turned sv.read_c into sv.read_csv( and the call ran
    has(out, "read_csv: cannot open '/nonexistent/file.csv'")
    -- Ctrl-C stopped the loop, the session went on
    has(out, "interrupted!")
    has(out, "42")
    -- Ctrl-C at the prompt dropped the typed line (no syntax error for it)
    has(out, "afterctrl-c")
    T.ok(not out:find("syntax error", 1, true), "the cleared line was not run:\n" .. out)
    -- Ctrl-C in a continuation line dropped the unfinished chunk
    has(out, "freshchunk")
    -- Ctrl-C stopped the engine (between trees; the error comes either
    -- from the engine's check or from the Lua hook at the binding's next
    -- call) and the session went on
    local at = out:find("trees = 1000000", 1, true)
    T.ok(at and out:find("interrupted", at, true), "engine work interrupted:\n" .. out)
    has(out, "true\tenginestopped")
    local hist = read(home .. "/.sylva_history")
    has(hist, "x = 1", "history")
    has(hist, 'sv.read_csv("/nonexistent/file.csv")', "history")
  end)

  -- The progress bar: drawn on a terminal once the work has run for
  -- SYLVA_PROGRESS_DELAY seconds (0.5 by default), never after
  -- sv.progress(false), never when CI is set. The delay is set to 0 (bar at
  -- the first progress report) or to 1e9 (never) so that nothing here
  -- depends on how fast the machine is (it used to train forests until one
  -- call took a second, which on a loaded machine is slow and racy).
  local function progress_run(envset)
    local script = TMP .. "/progress.lua"
    write(script, table.concat({
      'local sv = require "sylva"',
      'local d = sv.read_csv(arg[1])',
      'local X = d:matrix({"age", "size", "grade", "nodes", "pgr", "er", "hormon"})',
      'local y = d:col("status")',
      'local function train() sv.forest.train(X, y, {trees = 20, seed = 1, threads = 1}) end',
      'io.stderr:write("<on>") train() io.stderr:write("</on>")',
      'sv.progress(false)',
      'io.stderr:write("<off>") train() io.stderr:write("</off>")',
    }, "\n") .. "\n")
    local cmd = ("%s TERM=dumb; SHELL=/bin/sh; export TERM SHELL; timeout 60 script -qfec %q /dev/null"):format(
      envset, ("exec %q %q %q"):format(BIN, script, T.root .. "/tests/fixtures/data/gbsg.csv"))
    local out = run(cmd)
    return out
  end

  T.test("progress bar: drawn on a terminal, off with sv.progress(false) or CI", function()
    local out = progress_run("unset CI; SYLVA_PROGRESS_DELAY=0; export SYLVA_PROGRESS_DELAY;")
    local on = out:match("<on>(.-)</on>") or ""
    local off = out:match("<off>(.-)</off>") or "?["
    T.ok(on:find("forest.train", 1, true) and on:find("%] +%d+%%"), "bar while on:\n" .. out)
    T.ok(not off:find("[", 1, true), "no bar after sv.progress(false):\n" .. out)
    out = progress_run("CI=1; SYLVA_PROGRESS_DELAY=0; export CI SYLVA_PROGRESS_DELAY;")
    on = out:match("<on>(.-)</on>") or "?["
    T.ok(not on:find("[", 1, true), "no bar under CI:\n" .. out)
  end)

  T.test("progress bar: quiet before SYLVA_PROGRESS_DELAY seconds", function()
    local out = progress_run("unset CI; SYLVA_PROGRESS_DELAY=1e9; export SYLVA_PROGRESS_DELAY;")
    local on = out:match("<on>(.-)</on>") or "?["
    T.ok(not on:find("[", 1, true), "no bar before the delay:\n" .. out)
  end)
end

T.done()
