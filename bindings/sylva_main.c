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

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/select.h>
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

static void laction(int sig)
{
    (void)sig;
    svL_interrupt_flag = 1;
    if (global_L)
        lua_sethook(global_L, lstop, LUA_MASKCALL | LUA_MASKRET | LUA_MASKCOUNT, 1);
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
           progname);
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
    (void)start;
    (void)end;
    rl_attempted_completion_over = 1;
    lua_State *L = global_L;
    if (!L) return NULL;
    lua_pushstring(L, text);
    if (repl_call(L, "complete", 1, 1) != LUA_OK || !lua_istable(L, -1)) {
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

/* ---- reading a line: Ctrl-C at the prompt abandons the line ------------
 * readline() itself lets SIGINT through to the default action (the stock
 * lua interpreter dies on Ctrl-C at its prompt, losing the session). We
 * use readline's callback interface with our own handler instead, after
 * Python's readline module: a Ctrl-C while typing clears the line and
 * shows a fresh prompt. */

static volatile sig_atomic_t prompt_sigint = 0;
static char *rl_result = NULL;
static int rl_finished = 0;

static void prompt_intr(int sig)
{
    (void)sig;
    prompt_sigint = 1;
}

static void on_line(char *line)
{
    rl_result = line;
    rl_finished = 1;
    rl_callback_handler_remove();
}

/* Reads one line with the prompt; NULL at end of input. *interrupted is
 * set when Ctrl-C abandoned the line (then the result is NULL too). */
static char *read_line(const char *prompt, int *interrupted)
{
    *interrupted = 0;
    struct sigaction sa, old;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = prompt_intr; /* no SA_RESTART: select() returns EINTR */
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, &old);
    rl_catch_signals = 0;
    prompt_sigint = 0;
    rl_result = NULL;
    rl_finished = 0;
    rl_callback_handler_install(prompt, on_line);
    while (!rl_finished) {
        fd_set fds;
        FD_ZERO(&fds);
        FD_SET(fileno(rl_instream ? rl_instream : stdin), &fds);
        int r = select(fileno(rl_instream ? rl_instream : stdin) + 1, &fds, NULL, NULL, NULL);
        if (r < 0 && errno == EINTR) {
            if (!prompt_sigint) continue;
            prompt_sigint = 0;
            rl_free_line_state();
            rl_callback_sigcleanup();
            rl_cleanup_after_signal();
            rl_callback_handler_remove();
            fputc('\n', stdout);
            fflush(stdout);
            *interrupted = 1;
            break;
        }
        if (r < 0) {
            rl_callback_handler_remove();
            break;
        }
        rl_callback_read_char();
    }
    sigaction(SIGINT, &old, NULL);
    return rl_result;
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
    luaL_Buffer b;
    luaL_buffinit(L, &b);
    luaL_addstring(&b, line);
    free(line);
    for (;;) {
        luaL_pushresult(&b);
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
        int interrupted = 0;
        char *more = read_line(">> ", &interrupted);
        if (interrupted) {
            lua_pop(L, 1);
            lua_pushliteral(L, "interrupted");
            return LUA_ERRSYNTAX;
        }
        if (!more) {
            lua_pop(L, 1);
            lua_pushliteral(L, "incomplete input at end of file");
            return LUA_ERRSYNTAX;
        }
        /* Keep code on the stack while extending it. */
        luaL_buffinit(L, &b);
        luaL_addvalue(&b);
        luaL_addchar(&b, '\n');
        luaL_addstring(&b, more);
        free(more);
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

static void doREPL(lua_State *L)
{
    global_L = L;
    int interactive = isatty(0);
    char *hist = history_path();
    if (interactive) {
        rl_readline_name = "sylva";
        rl_attempted_completion_function = completion_matches;
        rl_basic_word_break_characters = " \t\n\"\\'><=;+-*/%^~#{}()[],";
        if (hist) read_history(hist);
    }
    for (;;) {
        int interrupted = 0;
        char *line = interactive ? read_line("> ", &interrupted) : NULL;
        if (interrupted) continue;
        if (!interactive) {
            /* Plain stdin (tests, pipes): one line at a time, no prompt. */
            size_t cap = 0;
            ssize_t got = getline(&line, &cap, stdin);
            if (got < 0) {
                free(line);
                line = NULL;
            } else if (got > 0 && line[got - 1] == '\n') {
                line[got - 1] = '\0';
            }
        }
        if (!line) break;
        if (interactive && line[0]) add_history(line);
        int base = lua_gettop(L);
        int status = loadline(L, line);
        if (status == LUA_OK) status = docall(L, 0, LUA_MULTRET);
        if (status == LUA_OK) print_results(L, base);
        else report(L, status);
        lua_settop(L, base);
    }
    if (interactive) {
        if (hist) write_history(hist);
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
