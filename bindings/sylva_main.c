/*
 * sylva_main.c - the `sylva` executable: Lua 5.4 with the sylva module
 * preloaded, command-line behaviour after the stock `lua` interpreter, and
 * an interactive REPL (readline editing, history, completion, printing of
 * expressions) whose Lua side lives in scripts/repl.lua.
 */
#define _POSIX_C_SOURCE 200809L
#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <readline/history.h>
#include <readline/readline.h>

#include "lsylva.h"

static const char *progname = "sylva";
static lua_State *global_L = NULL; /* for the signal handler only */

/* ---- interrupt: the engine checks the flag, Lua code gets a hook ------ */

static void lstop(lua_State *L, lua_Debug *ar)
{
    (void)ar;
    lua_sethook(L, NULL, 0, 0);
    luaL_error(L, "interrupted!");
}

/* Ctrl-C during a computation: the engine sees svL_interrupt_flag (through
 * sv_ctx.cancel) and Lua code gets a hook that raises "interrupted!" at the
 * next instruction. Engine work stops at its next check (between trees,
 * every 64k CSV rows); should it not, the third Ctrl-C in one call ends
 * the process, as an escape hatch. */
static volatile sig_atomic_t sigint_count = 0;

static void laction(int sig)
{
    svL_interrupt_flag = 1;
    if (global_L)
        lua_sethook(global_L, lstop, LUA_MASKCALL | LUA_MASKRET | LUA_MASKCOUNT, 1);
    if (++sigint_count >= 3) {
        static const char msg[] = "\nsylva: interrupted three times, quitting\n";
        ssize_t w = write(2, msg, sizeof msg - 1);
        (void)w;
        signal(sig, SIG_DFL);
        raise(sig);
    }
}

static int msghandler(lua_State *L)
{
    const char *msg = lua_tostring(L, 1);
    if (msg == NULL) {
        if (luaL_callmeta(L, 1, "__tostring") && lua_type(L, -1) == LUA_TSTRING)
            return 1;
        msg = lua_pushfstring(L, "(error object is a %s value)", luaL_typename(L, 1));
    }
    luaL_traceback(L, L, msg, 1);
    return 1;
}

static int docall(lua_State *L, int narg, int nres)
{
    int base = lua_gettop(L) - narg;
    lua_pushcfunction(L, msghandler);
    lua_insert(L, base);
    svL_interrupt_flag = 0;
    sigint_count = 0;
    global_L = L;
    struct sigaction sa, old;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = laction;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, &old);
    int status = lua_pcall(L, narg, nres, base);
    sigaction(SIGINT, &old, NULL);
    lua_sethook(L, NULL, 0, 0);
    svL_interrupt_flag = 0;
    lua_remove(L, base);
    return status;
}

static void l_message(const char *msg)
{
    fprintf(stderr, "%s: %s\n", progname, msg);
    fflush(stderr);
}

static int report(lua_State *L, int status)
{
    if (status != LUA_OK) {
        const char *msg = lua_tostring(L, -1);
        l_message(msg ? msg : "(error object is not a string)");
        lua_pop(L, 1);
    }
    return status;
}

static void print_usage(void)
{
    printf("usage: %s [options] [script [args]]\n"
           "       %s study SPEC.lua [--out DIR] [--threads N] [--quick]\n"
           "       %s score BUNDLE.svm DATA.csv --encoding ENC.lua [--out FILE] [--explain K] [--html DIR]\n"
           "Available options are:\n"
           "  -e stat   execute string 'stat'\n"
           "  -i        enter interactive mode after executing 'script'\n"
           "  -l mod    require library 'mod' into global 'mod'\n"
           "  -v, --version  show version information\n"
           "  -h, --help     show this help\n"
           "  --        stop handling options\n"
           "  -         execute stdin and stop handling options\n"
           "With no arguments, starts the interactive REPL (the sylva module is\n"
           "loaded as the global 'sv'; type help() for help).\n",
           progname, progname, progname);
}

static void print_version(void)
{
    printf("sylva %s (%s)\n", SV_VERSION_STRING, LUA_RELEASE);
}

/* Global `arg` as the stock lua sets it: script at 0, options below. */
static void createargtable(lua_State *L, char **argv, int argc, int script)
{
    if (script == argc) script = 0;
    int narg = argc - (script + 1);
    lua_createtable(L, narg, script + 1);
    for (int i = 0; i < argc; i++) {
        lua_pushstring(L, argv[i]);
        lua_rawseti(L, -2, i - script);
    }
    lua_setglobal(L, "arg");
}

static int dochunk(lua_State *L, int status)
{
    if (status == LUA_OK) status = docall(L, 0, 0);
    return report(L, status);
}

static int dostring(lua_State *L, const char *s, const char *name)
{
    return dochunk(L, luaL_loadbuffer(L, s, strlen(s), name));
}

static int dolibrary(lua_State *L, const char *name)
{
    lua_getglobal(L, "require");
    lua_pushstring(L, name);
    int status = docall(L, 1, 1);
    if (status == LUA_OK) {
        const char *dash = strchr(name, '-');
        char global[256];
        snprintf(global, sizeof global, "%s", dash ? dash + 1 : name);
        for (char *p = global; *p; p++)
            if (*p == '.') *p = '_';
        lua_setglobal(L, global);
    }
    return report(L, status);
}

static int pushargs(lua_State *L)
{
    if (lua_getglobal(L, "arg") != LUA_TTABLE) luaL_error(L, "'arg' is not a table");
    int n = (int)luaL_len(L, -1);
    luaL_checkstack(L, n + 3, "too many arguments to script");
    int i;
    for (i = 1; i <= n; i++) lua_rawgeti(L, -i, i);
    lua_remove(L, -i);
    return n;
}

static int handle_script(lua_State *L, char **argv)
{
    const char *fname = argv[0];
    if (strcmp(fname, "-") == 0 && strcmp(argv[-1], "--") != 0) fname = NULL;
    int status = luaL_loadfile(L, fname);
    if (status == LUA_OK) {
        int n = pushargs(L);
        status = docall(L, n, LUA_MULTRET);
    }
    return report(L, status);
}

/* ---- subcommands: `sylva study SPEC.lua ...` ------------------------
 * A first argument naming a subcommand runs sv.<name>.cli(args) from the
 * embedded scripts (scripts/<name>.lua); it returns true for success.
 * (A script file of that name is still reachable as ./study.) */
static const char *const subcommands[] = {"study", "score", NULL};
/* the module of each subcommand: `sylva score` is sv.bundle.cli */
static const char *const submodules[] = {"study", "bundle", NULL};

static int is_subcommand(const char *name)
{
    for (int i = 0; subcommands[i]; i++)
        if (strcmp(name, subcommands[i]) == 0) return 1;
    return 0;
}

static const char *submodule(const char *name)
{
    for (int i = 0; subcommands[i]; i++)
        if (strcmp(name, subcommands[i]) == 0) return submodules[i];
    return name;
}

/* Returns 1 when the subcommand succeeded. */
static int handle_subcommand(lua_State *L, char **argv)
{
    lua_getglobal(L, "require");
    lua_pushstring(L, "sylva");
    if (report(L, docall(L, 1, 1)) != LUA_OK) return 0;
    lua_getfield(L, -1, submodule(argv[0]));
    lua_remove(L, -2);
    lua_getfield(L, -1, "cli");
    lua_remove(L, -2);
    lua_newtable(L);
    for (int i = 1; argv[i]; i++) {
        lua_pushstring(L, argv[i]);
        lua_rawseti(L, -2, i);
    }
    int status = docall(L, 1, 1);
    if (report(L, status) != LUA_OK) return 0;
    int ok = lua_toboolean(L, -1);
    lua_pop(L, 1);
    return ok;
}

/* ---- the REPL ------------------------------------------------------ */

/* Calls repl.<fn>(args...) from the embedded scripts/repl.lua. */
static int repl_call(lua_State *L, const char *fn, int nargs, int nres)
{
    lua_getglobal(L, "require");
    lua_pushstring(L, "sylva.repl");
    if (lua_pcall(L, 1, 1, 0) != LUA_OK) {
        lua_pop(L, 1 + nargs);
        return -1;
    }
    lua_getfield(L, -1, fn);
    lua_remove(L, -2);
    lua_insert(L, -1 - nargs);
    return docall(L, nargs, nres);
}

static char **completion_matches(const char *text, int start, int end)
{
    (void)end;
    rl_attempted_completion_over = 1;
    rl_completion_append_character = '\0'; /* repl.complete adds "(" or "." */
    lua_State *L = global_L;
    if (!L) return NULL;
    lua_pushstring(L, text);
    /* inside a string readline hands us the text after the opening quote
     * (rl_completer_quote_characters): tell repl.complete, with the line
     * before it, so that it completes column names */
    lua_pushlstring(L, rl_line_buffer, start > 0 ? (size_t)start : 0);
    char q[2] = {(char)rl_completion_quote_character, '\0'};
    lua_pushstring(L, q);
    if (repl_call(L, "complete", 3, 1) != LUA_OK || !lua_istable(L, -1)) {
        lua_pop(L, 1);
        return NULL;
    }
    int n = (int)luaL_len(L, -1);
    if (n == 0) {
        lua_pop(L, 1);
        return NULL;
    }
    char **m = malloc(sizeof(char *) * (size_t)(n + 2));
    if (!m) {
        lua_pop(L, 1);
        return NULL;
    }
    /* m[0] is the common prefix (computed by repl.complete as item 1). */
    int k = 0;
    for (int i = 1; i <= n; i++) {
        lua_rawgeti(L, -1, i);
        const char *s = lua_tostring(L, -1);
        m[k++] = strdup(s ? s : "");
        lua_pop(L, 1);
    }
    m[k] = NULL;
    lua_pop(L, 1);
    return m;
}

/* ---- reading lines ----------------------------------------------------
 * On a terminal: readline (editing, history, completion). Ctrl-C at the
 * prompt clears the line and shows a fresh prompt: readline catches the
 * signal, cleans up the terminal and re-raises it to prompt_sigint (which
 * only sets a flag), then calls on_signal_event, which empties the line and
 * redraws the primary prompt; the REPL then drops any unfinished
 * multi-line chunk. Elsewhere (pipes, tests): plain getline, no prompt. */
static volatile sig_atomic_t prompt_interrupted = 0;
static int repl_interactive = 0;

static void prompt_sigint(int sig)
{
    (void)sig;
    prompt_interrupted = 1;
}

static int on_signal_event(void)
{
    if (prompt_interrupted) {
        rl_replace_line("", 0);
        rl_set_prompt("> ");
        rl_crlf();
        rl_on_new_line();
        rl_redisplay();
    }
    return 0;
}

/* One line without its newline (malloc'd), or NULL at end of input. */
static char *read_line(const char *prompt)
{
    if (repl_interactive) return readline(prompt);
    char *line = NULL;
    size_t cap = 0;
    ssize_t got = getline(&line, &cap, stdin);
    if (got < 0) {
        free(line);
        return NULL;
    }
    if (got > 0 && line[got - 1] == '\n') line[--got] = '\0';
    if (got > 0 && line[got - 1] == '\r') line[--got] = '\0';
    return line;
}

static char *history_path(void)
{
    const char *home = getenv("HOME");
    if (!home || !*home) return NULL;
    size_t n = strlen(home) + 32;
    char *p = malloc(n);
    if (p) snprintf(p, n, "%s/.sylva_history", home);
    return p;
}

/* Compiles a line as `return <line>` first (so expressions print), else as
 * a statement; more lines are read while the chunk is incomplete. */
static int loadline(lua_State *L, char *line)
{
    const char *ret = lua_pushfstring(L, "return %s;", line);
    int status = luaL_loadbuffer(L, ret, strlen(ret), "=stdin");
    lua_remove(L, -2);
    if (status == LUA_OK) {
        free(line);
        return status;
    }
    lua_pop(L, 1);
    lua_pushstring(L, line); /* the chunk so far, kept on the stack */
    free(line);
    for (;;) {
        size_t len;
        const char *code = lua_tolstring(L, -1, &len);
        status = luaL_loadbuffer(L, code, len, "=stdin");
        if (status != LUA_ERRSYNTAX) {
            lua_remove(L, -2);
            return status;
        }
        const char *msg = lua_tostring(L, -1);
        size_t ml = strlen(msg);
        if (!(ml >= 5 && strcmp(msg + ml - 5, "<eof>") == 0)) {
            lua_remove(L, -2);
            return status;
        }
        lua_pop(L, 1);
        prompt_interrupted = 0;
        char *more = read_line(">> ");
        if (more && prompt_interrupted) {
            /* Ctrl-C dropped the unfinished chunk: start over with the
             * line typed after it. */
            lua_pop(L, 1);
            return loadline(L, more);
        }
        if (!more) {
            lua_pop(L, 1);
            lua_pushliteral(L, "incomplete input at end of file");
            return LUA_ERRSYNTAX;
        }
        lua_pushliteral(L, "\n");
        lua_pushstring(L, more);
        free(more);
        lua_concat(L, 3);
    }
}

static void print_results(lua_State *L, int base)
{
    int n = lua_gettop(L) - base;
    if (n <= 0) return;
    lua_createtable(L, n, 0);
    for (int i = 1; i <= n; i++) {
        lua_pushvalue(L, base + i);
        lua_rawseti(L, -2, i);
    }
    lua_pushinteger(L, n);
    if (repl_call(L, "show", 2, 0) != LUA_OK) report(L, LUA_ERRRUN);
    lua_settop(L, base);
}

#define HISTORY_MAX 1000

/* Adds a line to the history (not blank, not a repeat of the last one)
 * and appends it to the history file at once, so that a killed session
 * keeps what was typed. */
static void remember(const char *line, const char *hist)
{
    const char *p = line;
    while (*p == ' ' || *p == '\t') p++;
    if (!*p) return;
    HIST_ENTRY *last = history_length > 0 ? history_get(history_base + history_length - 1) : NULL;
    if (last && strcmp(last->line, line) == 0) return;
    add_history(line);
    if (hist) append_history(1, hist);
}

static void doREPL(lua_State *L)
{
    global_L = L;
    repl_interactive = isatty(0);
    char *hist = history_path();
    struct sigaction sa, old_sa;
    if (repl_interactive) {
        rl_readline_name = "sylva";
        rl_attempted_completion_function = completion_matches;
        rl_completer_quote_characters = "\"'";
        rl_basic_word_break_characters = " \t\n\"\\'><=;+-*/%^~#{}()[],";
        rl_signal_event_hook = on_signal_event;
        stifle_history(HISTORY_MAX);
        if (hist && read_history(hist) != 0) {
            /* No history yet: create the file so that appends work. */
            FILE *f = fopen(hist, "a");
            if (f) fclose(f);
        }
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = prompt_sigint;
        sigemptyset(&sa.sa_mask);
        sigaction(SIGINT, &sa, &old_sa);
    }
    for (;;) {
        prompt_interrupted = 0;
        char *line = read_line("> ");
        if (!line) break;
        if (repl_interactive) remember(line, hist);
        int base = lua_gettop(L);
        int status = loadline(L, line);
        if (status == LUA_OK) status = docall(L, 0, LUA_MULTRET);
        if (status == LUA_OK) print_results(L, base);
        else report(L, status);
        lua_settop(L, base);
        fflush(stdout);
    }
    if (repl_interactive) {
        sigaction(SIGINT, &old_sa, NULL);
        if (hist) history_truncate_file(hist, HISTORY_MAX);
        putchar('\n');
    }
    free(hist);
}

/* ---- main ---------------------------------------------------------- */

#define has_e 1
#define has_i 2
#define has_v 4
#define has_h 8

static int collectargs(char **argv, int *first)
{
    int args = 0;
    int i;
    for (i = 1; argv[i] != NULL; i++) {
        *first = i;
        if (argv[i][0] != '-') return args;
        if (strcmp(argv[i], "--version") == 0) { args |= has_v; continue; }
        if (strcmp(argv[i], "--help") == 0) { args |= has_h; continue; }
        switch (argv[i][1]) {
        case '-':
            if (argv[i][2] != '\0') return -1;
            *first = i + 1;
            return args;
        case '\0':
            return args;
        case 'i':
            if (argv[i][2] != '\0') return -1;
            args |= has_i;
            break;
        case 'v':
            if (argv[i][2] != '\0') return -1;
            args |= has_v;
            break;
        case 'h':
            if (argv[i][2] != '\0') return -1;
            args |= has_h;
            break;
        case 'e':
            args |= has_e;
            /* fallthrough */
        case 'l':
            if (argv[i][2] == '\0') {
                i++;
                if (argv[i] == NULL || argv[i][0] == '-') return -1;
            }
            break;
        default:
            return -1;
        }
    }
    *first = i;
    return args;
}

static int runargs(lua_State *L, char **argv, int n)
{
    for (int i = 1; i < n; i++) {
        int option = argv[i][1];
        if (option != 'e' && option != 'l') continue;
        const char *extra = argv[i] + 2;
        if (*extra == '\0') extra = argv[++i];
        int status = option == 'e' ? dostring(L, extra, "=(command line)")
                                   : dolibrary(L, extra);
        if (status != LUA_OK) return 0;
    }
    return 1;
}

static void setup_repl_globals(lua_State *L)
{
    lua_getglobal(L, "require");
    lua_pushstring(L, "sylva");
    if (docall(L, 1, 1) == LUA_OK) lua_setglobal(L, "sv");
    else report(L, LUA_ERRRUN);
    lua_getglobal(L, "require");
    lua_pushstring(L, "sylva.help");
    if (docall(L, 1, 1) == LUA_OK) {
        lua_getfield(L, -1, "help");
        lua_setglobal(L, "help");
        lua_pop(L, 1);
    } else {
        report(L, LUA_ERRRUN);
    }
}

static int pmain(lua_State *L)
{
    int argc = (int)lua_tointeger(L, 1);
    char **argv = (char **)lua_touserdata(L, 2);
    int script = 0;
    int args = collectargs(argv, &script);
    luaL_checkversion(L);
    if (args < 0) {
        l_message("unrecognized option");
        print_usage();
        return 0;
    }
    if (args & has_h) {
        print_usage();
        lua_pushboolean(L, 1);
        return 1;
    }
    if (args & has_v) {
        print_version();
        if (!(args & ~has_v) && !argv[script]) {
            lua_pushboolean(L, 1);
            return 1;
        }
    }
    luaL_openlibs(L);
    luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_PRELOAD_TABLE);
    lua_pushcfunction(L, luaopen_sylva);
    lua_setfield(L, -2, "sylva");
    lua_pop(L, 1);
    createargtable(L, argv, argc, script);
    lua_gc(L, LUA_GCRESTART);
    lua_gc(L, LUA_GCGEN, 0, 0);
    if (!runargs(L, argv, script)) return 0;
    if (script < argc && is_subcommand(argv[script])) {
        lua_pushboolean(L, handle_subcommand(L, argv + script));
        return 1;
    }
    if (script < argc && handle_script(L, argv + script) != LUA_OK) return 0;
    if (args & has_i) {
        setup_repl_globals(L);
        doREPL(L);
    } else if (script == argc && !(args & (has_e | has_v))) {
        if (isatty(0)) {
            print_version();
            printf("Type help() for help, Ctrl-D to quit.\n");
        }
        setup_repl_globals(L);
        doREPL(L);
    }
    lua_pushboolean(L, 1);
    return 1;
}

int main(int argc, char **argv)
{
    if (argv[0] && argv[0][0]) progname = "sylva";
    lua_State *L = luaL_newstate();
    if (L == NULL) {
        l_message("cannot create state: not enough memory");
        return EXIT_FAILURE;
    }
    lua_gc(L, LUA_GCSTOP);
    lua_pushcfunction(L, pmain);
    lua_pushinteger(L, argc);
    lua_pushlightuserdata(L, argv);
    int status = lua_pcall(L, 2, 1, 0);
    int result = lua_toboolean(L, -1);
    report(L, status);
    lua_close(L);
    return (result && status == LUA_OK) ? EXIT_SUCCESS : EXIT_FAILURE;
}
