/*
 * lworkers.c - running a Lua function over jobs 1..count in worker
 * processes (POSIX fork), for the resampling validation of whole
 * pipelines (scripts/validate.lua): a pipeline is Lua code, which threads
 * cannot run, so each worker is a forked copy of the whole Lua state.
 *
 * The parent hands out job numbers one at a time over a pipe per worker
 * (so a slow replicate does not hold up the others) and reads each job's
 * result back over a second pipe as a frame: the job number, a status
 * byte and the result serialised as below. It stores result j at
 * results[j], so the table is the same whatever the number of workers or
 * the order in which jobs finish; everything computed from it afterwards
 * is therefore bitwise identical to a run in one process.
 *
 * Values that cross the pipe: nil, booleans, integers, floats (their 8
 * bytes, so bit for bit), strings, tables of these (nested, no cycles)
 * and Vectors. Anything else is an error naming its type.
 *
 * Failures: a job whose function raises is an error of the whole map
 * naming the job (the Lua side catches a pipeline's own failures first,
 * so this means the machinery itself failed, or an interrupt); a worker
 * that dies (crash, kill, exit) while it holds a job is an error naming
 * the job and how the worker ended, never a hang. On any error, and on
 * Ctrl-C (svL_interrupt_flag, set by the executable's SIGINT handler),
 * the parent kills the remaining workers (SIGKILL) and reaps them before
 * it raises. In a worker, every engine call runs on one thread
 * (svL_worker_threads) and draws no progress bar.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lsylva.h"

#define WK_MAX_DEPTH 64

/* ---- serialisation ------------------------------------------------------ */

enum { T_NIL = 'n', T_TRUE = 't', T_FALSE = 'f', T_INT = 'i', T_FLT = 'd', T_STR = 's',
       T_TABLE = 'T', T_END = 'e', T_VECTOR = 'V' };

/* A growing byte buffer owned by C (the child writes it and exits). */
typedef struct wbuf {
    unsigned char *p;
    size_t n, cap;
    int oom;
} wbuf;

static void wb_put(wbuf *b, const void *src, size_t len)
{
    if (b->oom) return;
    if (b->n + len > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->n + len) cap *= 2;
        unsigned char *q = realloc(b->p, cap);
        if (!q) {
            b->oom = 1;
            return;
        }
        b->p = q;
        b->cap = cap;
    }
    memcpy(b->p + b->n, src, len);
    b->n += len;
}

static void wb_tag(wbuf *b, int tag)
{
    unsigned char c = (unsigned char)tag;
    wb_put(b, &c, 1);
}

static void wb_u64(wbuf *b, uint64_t v) { wb_put(b, &v, sizeof v); }

/* Serialises the value at idx; on failure writes a message to err and
 * returns 0. */
static int encode(lua_State *L, int idx, wbuf *b, int depth, char *err, size_t errlen)
{
    idx = lua_absindex(L, idx);
    switch (lua_type(L, idx)) {
    case LUA_TNIL: wb_tag(b, T_NIL); return 1;
    case LUA_TBOOLEAN: wb_tag(b, lua_toboolean(L, idx) ? T_TRUE : T_FALSE); return 1;
    case LUA_TNUMBER:
        if (lua_isinteger(L, idx)) {
            wb_tag(b, T_INT);
            lua_Integer v = lua_tointeger(L, idx);
            wb_put(b, &v, sizeof v);
        } else {
            wb_tag(b, T_FLT);
            lua_Number v = lua_tonumber(L, idx);
            wb_put(b, &v, sizeof v);
        }
        return 1;
    case LUA_TSTRING: {
        size_t len;
        const char *s = lua_tolstring(L, idx, &len);
        wb_tag(b, T_STR);
        wb_u64(b, (uint64_t)len);
        wb_put(b, s, len);
        return 1;
    }
    case LUA_TTABLE:
        if (depth >= WK_MAX_DEPTH) {
            snprintf(err, errlen, "a result nested deeper than %d tables (a cycle?)", WK_MAX_DEPTH);
            return 0;
        }
        wb_tag(b, T_TABLE);
        lua_pushnil(L);
        while (lua_next(L, idx)) {
            if (!encode(L, -2, b, depth + 1, err, errlen) ||
                !encode(L, -1, b, depth + 1, err, errlen)) {
                lua_pop(L, 2);
                return 0;
            }
            lua_pop(L, 1);
        }
        wb_tag(b, T_END);
        return 1;
    case LUA_TUSERDATA: {
        svL_vector *v = svL_testvector(L, idx);
        if (v) {
            wb_tag(b, T_VECTOR);
            wb_u64(b, (uint64_t)v->n);
            wb_put(b, v->data, v->n * sizeof *v->data);
            return 1;
        }
    }
        /* fall through */
    default:
        snprintf(err, errlen, "a result holds a %s, which cannot be sent from a worker process",
                 luaL_typename(L, idx));
        return 0;
    }
}

typedef struct rbuf {
    const unsigned char *p;
    size_t n, at;
} rbuf;

static int rb_get(rbuf *r, void *dst, size_t len)
{
    if (r->n - r->at < len) return 0;
    memcpy(dst, r->p + r->at, len);
    r->at += len;
    return 1;
}

/* Pushes the value serialised at r; 0 on a malformed frame (nothing
 * pushed). */
static int decode(lua_State *L, rbuf *r, int depth)
{
    unsigned char tag;
    if (depth > WK_MAX_DEPTH || !rb_get(r, &tag, 1)) return 0;
    switch (tag) {
    case T_NIL: lua_pushnil(L); return 1;
    case T_TRUE: lua_pushboolean(L, 1); return 1;
    case T_FALSE: lua_pushboolean(L, 0); return 1;
    case T_INT: {
        lua_Integer v;
        if (!rb_get(r, &v, sizeof v)) return 0;
        lua_pushinteger(L, v);
        return 1;
    }
    case T_FLT: {
        lua_Number v;
        if (!rb_get(r, &v, sizeof v)) return 0;
        lua_pushnumber(L, v);
        return 1;
    }
    case T_STR: {
        uint64_t len;
        if (!rb_get(r, &len, sizeof len) || r->n - r->at < len) return 0;
        lua_pushlstring(L, (const char *)r->p + r->at, (size_t)len);
        r->at += (size_t)len;
        return 1;
    }
    case T_VECTOR: {
        uint64_t len;
        if (!rb_get(r, &len, sizeof len) || (r->n - r->at) / sizeof(double) < len) return 0;
        double *d = svL_newvector(L, (size_t)len);
        memcpy(d, r->p + r->at, (size_t)len * sizeof *d);
        r->at += (size_t)len * sizeof *d;
        return 1;
    }
    case T_TABLE:
        luaL_checkstack(L, 4, "worker result");
        lua_newtable(L);
        for (;;) {
            if (r->at < r->n && r->p[r->at] == T_END) {
                r->at++;
                return 1;
            }
            if (!decode(L, r, depth + 1)) break;
            if (lua_isnil(L, -1) || !decode(L, r, depth + 1)) {
                lua_pop(L, 1);
                break;
            }
            lua_rawset(L, -3);
        }
        lua_pop(L, 1);
        return 0;
    default: return 0;
    }
}

/* ---- pipes -------------------------------------------------------------- */

/* Writes all len bytes (retrying short writes and EINTR); 0 on failure. */
static int write_all(int fd, const void *src, size_t len)
{
    const unsigned char *p = src;
    while (len > 0) {
        ssize_t w = write(fd, p, len);
        if (w < 0) {
            if (errno == EINTR) continue;
            return 0;
        }
        p += w;
        len -= (size_t)w;
    }
    return 1;
}

/* Reads exactly len bytes: 1 done, 0 end of file first, -1 error, -2
 * interrupted (EINTR while the interrupt flag is set, when intr_ok). */
static int read_all(int fd, void *dst, size_t len, int intr_ok)
{
    unsigned char *p = dst;
    while (len > 0) {
        ssize_t r = read(fd, p, len);
        if (r < 0) {
            if (errno == EINTR) {
                if (intr_ok && svL_interrupt_flag) return -2;
                continue;
            }
            return -1;
        }
        if (r == 0) return 0;
        p += r;
        len -= (size_t)r;
    }
    return 1;
}

/* A frame: job (uint32), status (uint8: 0 result, 1 error message),
 * payload length (uint64), payload. */
typedef struct frame_head {
    uint32_t job;
    uint8_t status;
    uint64_t len;
} frame_head;

/* ---- the worker --------------------------------------------------------- */

/* In a worker: runs jobs read from fd_job until job 0, writes frames to
 * fd_res, never returns. The function is at stack index fn. */
static void worker_loop(lua_State *L, int fn, int fd_job, int fd_res)
{
    for (;;) {
        uint32_t job;
        if (read_all(fd_job, &job, sizeof job, 0) != 1 || job == 0) break;
        wbuf b = {0};
        char err[256] = "";
        frame_head h = {job, 0, 0};
        lua_pushvalue(L, fn);
        lua_pushinteger(L, (lua_Integer)job);
        if (lua_pcall(L, 1, 1, 0) != LUA_OK) {
            h.status = 1;
            size_t len;
            const char *msg = lua_tolstring(L, -1, &len);
            if (!msg) msg = "(error object is not a string)", len = strlen(msg);
            wb_put(&b, msg, len);
        } else if (!encode(L, -1, &b, 0, err, sizeof err)) {
            h.status = 1;
            b.n = 0;
            wb_put(&b, err, strlen(err));
        }
        lua_pop(L, 1);
        if (b.oom) {
            h.status = 1;
            free(b.p);
            b = (wbuf){0};
            static const char msg[] = "out of memory serialising a result";
            wb_put(&b, msg, sizeof msg - 1);
        }
        h.len = b.n;
        int ok = write_all(fd_res, &h, sizeof h) && write_all(fd_res, b.p, b.n);
        free(b.p);
        if (!ok) break;
        lua_gc(L, LUA_GCSTEP, 0);
    }
    fflush(NULL);
    _exit(0);
}

/* ---- the parent --------------------------------------------------------- */

typedef struct wk {
    pid_t pid;
    int fd_job, fd_res; /* parent's ends */
    uint32_t job;       /* job in flight, 0 = none */
    int done;           /* sent 0 and saw end of file */
} wk;

/* The userdata holding the workers: its __gc / __close kills and reaps
 * any left, so that no error path leaves a process behind. */
typedef struct wk_set {
    int n;
    wk w[];
} wk_set;

static void wk_kill_all(wk_set *s)
{
    for (int i = 0; i < s->n; i++) {
        wk *w = &s->w[i];
        if (w->fd_job >= 0) close(w->fd_job);
        if (w->fd_res >= 0) close(w->fd_res);
        w->fd_job = w->fd_res = -1;
        if (w->pid > 0) {
            kill(w->pid, SIGKILL);
            while (waitpid(w->pid, NULL, 0) < 0 && errno == EINTR) {
            }
            w->pid = 0;
        }
    }
}

static int wk_gc(lua_State *L)
{
    wk_kill_all(lua_touserdata(L, 1));
    return 0;
}

/* How a finished worker ended, for a message. */
static void describe_end(pid_t pid, char *out, size_t len)
{
    int st = 0;
    pid_t r;
    while ((r = waitpid(pid, &st, 0)) < 0 && errno == EINTR) {
    }
    if (r < 0) snprintf(out, len, "ended");
    else if (WIFSIGNALED(st)) snprintf(out, len, "was killed by signal %d (%s)", WTERMSIG(st), strsignal(WTERMSIG(st)));
    else if (WIFEXITED(st)) snprintf(out, len, "exited with status %d", WEXITSTATUS(st));
    else snprintf(out, len, "ended");
}

/* Reaps a worker whose pipe ended and says how it ended (for a message);
 * it is no longer killed or waited for on the way out. */
static void reap_worker(wk *w, char *how, size_t len)
{
    pid_t pid = w->pid;
    w->pid = 0;
    describe_end(pid, how, len);
}

static int send_job(wk *w, uint32_t job)
{
    w->job = job;
    return write_all(w->fd_job, &job, sizeof job);
}

/* map(count, workers, fn, fname [, progress]) -> results: results[j] =
 * fn(j) for j = 1..count, run in `workers` forked processes. */
static int l_map(lua_State *L)
{
    lua_Integer count = luaL_checkinteger(L, 1);
    lua_Integer nw = luaL_checkinteger(L, 2);
    luaL_checktype(L, 3, LUA_TFUNCTION);
    const char *fname = luaL_checkstring(L, 4);
    int progress = lua_toboolean(L, 5);
    luaL_argcheck(L, count >= 1 && count <= 0x7fffffff, 1, "job count out of range");
    luaL_argcheck(L, nw >= 1 && nw <= 4096, 2, "worker count out of range");
    if (nw > count) nw = count;
    lua_settop(L, 5);
    lua_createtable(L, (int)count, 0); /* 6: results */

    wk_set *s = lua_newuserdatauv(L, sizeof *s + (size_t)nw * sizeof(wk), 0); /* 7 */
    s->n = 0;
    lua_createtable(L, 0, 2);
    lua_pushcfunction(L, wk_gc);
    lua_setfield(L, -2, "__gc");
    lua_pushcfunction(L, wk_gc);
    lua_setfield(L, -2, "__close");
    lua_setmetatable(L, -2);
    lua_toclose(L, 7);

    fflush(NULL); /* nothing buffered is written twice by a worker */
    char msg[512] = "";
    int interrupted = 0;
    for (int i = 0; i < (int)nw; i++) {
        int pj[2], pr[2];
        if (pipe(pj) != 0) {
            snprintf(msg, sizeof msg, "cannot create a pipe: %s", strerror(errno));
            goto fail;
        }
        if (pipe(pr) != 0) {
            close(pj[0]);
            close(pj[1]);
            snprintf(msg, sizeof msg, "cannot create a pipe: %s", strerror(errno));
            goto fail;
        }
        pid_t pid = fork();
        if (pid < 0) {
            close(pj[0]);
            close(pj[1]);
            close(pr[0]);
            close(pr[1]);
            snprintf(msg, sizeof msg, "cannot start a worker process: %s", strerror(errno));
            goto fail;
        }
        if (pid == 0) {
            /* the worker: only its own two pipe ends stay open */
            for (int k = 0; k < s->n; k++) {
                close(s->w[k].fd_job);
                close(s->w[k].fd_res);
            }
            close(pj[1]);
            close(pr[0]);
            svL_worker_threads = 1;
            worker_loop(L, 3, pj[0], pr[1]);
        }
        close(pj[0]);
        close(pr[1]);
        s->w[i] = (wk){pid, pj[1], pr[0], 0, 0};
        s->n = i + 1;
    }
    /* a worker that dies makes writes to its pipe fail, not kill us */
    struct sigaction ign, old_pipe;
    memset(&ign, 0, sizeof ign);
    ign.sa_handler = SIG_IGN;
    sigemptyset(&ign.sa_mask);
    sigaction(SIGPIPE, &ign, &old_pipe);

    uint32_t next = 1, received = 0;
    for (int i = 0; i < s->n; i++) {
        if (!send_job(&s->w[i], next)) {
            snprintf(msg, sizeof msg, "cannot send replicate %u to a worker process", (unsigned)next);
            goto fail_pipe;
        }
        next++;
    }
    struct pollfd *pfd = lua_newuserdatauv(L, (size_t)s->n * sizeof *pfd, 0); /* 8 */
    while (received < (uint32_t)count) {
        int np = 0;
        for (int i = 0; i < s->n; i++) {
            pfd[i].fd = s->w[i].done ? -1 : s->w[i].fd_res;
            pfd[i].events = POLLIN;
            pfd[i].revents = 0;
            np++;
        }
        int pr = poll(pfd, (nfds_t)np, -1);
        if (svL_interrupt_flag) {
            interrupted = 1;
            goto fail_pipe;
        }
        if (pr < 0) {
            if (errno == EINTR) continue;
            snprintf(msg, sizeof msg, "waiting for the worker processes: %s", strerror(errno));
            goto fail_pipe;
        }
        for (int i = 0; i < s->n; i++) {
            wk *w = &s->w[i];
            if (w->done || !(pfd[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
            frame_head h;
            int r = read_all(w->fd_res, &h, sizeof h, 1);
            if (r == -2) {
                interrupted = 1;
                goto fail_pipe;
            }
            if (r != 1) {
                char how[160];
                reap_worker(w, how, sizeof how);
                if (w->job)
                    snprintf(msg, sizeof msg,
                             "the worker process running replicate %u %s before returning it "
                             "(replicate %u is lost; no result of this run is kept)",
                             (unsigned)w->job, how, (unsigned)w->job);
                else
                    snprintf(msg, sizeof msg, "a worker process %s unexpectedly", how);
                goto fail_pipe;
            }
            if (h.job != w->job || h.len > ((uint64_t)1 << 40)) {
                snprintf(msg, sizeof msg, "a worker process sent a malformed result");
                goto fail_pipe;
            }
            unsigned char *buf = lua_newuserdatauv(L, h.len ? (size_t)h.len : 1, 0);
            r = read_all(w->fd_res, buf, (size_t)h.len, 1);
            if (r == -2) {
                interrupted = 1;
                goto fail_pipe;
            }
            if (r != 1) {
                char how[160];
                reap_worker(w, how, sizeof how);
                snprintf(msg, sizeof msg,
                         "the worker process running replicate %u %s while returning it",
                         (unsigned)w->job, how);
                goto fail_pipe;
            }
            if (h.status != 0) {
                lua_pushlstring(L, (const char *)buf, (size_t)h.len);
                const char *em = lua_tostring(L, -1);
                if (strstr(em, "interrupted")) {
                    interrupted = 1;
                    goto fail_pipe;
                }
                snprintf(msg, sizeof msg, "replicate %u failed in a worker process: %s",
                         (unsigned)h.job, em);
                goto fail_pipe;
            }
            rbuf rb = {buf, (size_t)h.len, 0};
            if (!decode(L, &rb, 0) || rb.at != rb.n) {
                snprintf(msg, sizeof msg, "a worker process sent a malformed result (replicate %u)",
                         (unsigned)h.job);
                goto fail_pipe;
            }
            lua_rawseti(L, 6, (lua_Integer)h.job);
            lua_pop(L, 1); /* buf */
            received++;
            if (progress) {
                fprintf(stderr, "\r%s: %u/%u", fname, (unsigned)received, (unsigned)count);
                fflush(stderr);
            }
            uint32_t job = next <= (uint32_t)count ? next++ : 0;
            if (!send_job(w, job) && job) {
                snprintf(msg, sizeof msg, "cannot send replicate %u to a worker process",
                         (unsigned)job);
                goto fail_pipe;
            }
            if (!job) w->done = 1; /* it exits; reaped below */
        }
    }
    /* every result is in: the workers were sent 0 and exit */
    for (int i = 0; i < s->n; i++) {
        wk *w = &s->w[i];
        close(w->fd_job);
        close(w->fd_res);
        w->fd_job = w->fd_res = -1;
        while (waitpid(w->pid, NULL, 0) < 0 && errno == EINTR) {
        }
        w->pid = 0;
    }
    sigaction(SIGPIPE, &old_pipe, NULL);
    if (progress) fputc('\n', stderr);
    lua_settop(L, 6);
    return 1;

fail_pipe:
    sigaction(SIGPIPE, &old_pipe, NULL);
fail:
    wk_kill_all(s);
    if (progress) fputc('\n', stderr);
    if (interrupted) {
        svL_interrupt_flag = 0;
        return luaL_error(L, "%s: interrupted", fname);
    }
    return luaL_error(L, "%s: %s", fname, msg);
}

/* workers(threads, count) -> the number of worker processes map would use:
 * threads (0 = every online core) but at most count. */
static int l_workers(lua_State *L)
{
    lua_Integer t = luaL_checkinteger(L, 1);
    lua_Integer count = luaL_checkinteger(L, 2);
    sv_ctx c;
    memset(&c, 0, sizeof c);
    c.threads = t < 0 ? 1 : (int)(t > 4096 ? 4096 : t);
    lua_Integer n = svL_worker_threads > 0 ? 1 : sv_ctx_threads(&c);
    if (n > count) n = count;
    if (n < 1) n = 1;
    lua_pushinteger(L, n);
    return 1;
}

void svL_open_workers(lua_State *L)
{
    lua_pushcfunction(L, l_map);
    lua_setfield(L, -2, "map");
    lua_pushcfunction(L, l_workers);
    lua_setfield(L, -2, "workers");
}
