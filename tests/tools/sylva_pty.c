/*
 * sylva_pty.c - drives an interactive program through a pseudo-terminal,
 * for tests of the REPL's behaviour that need a real terminal (Ctrl-C
 * during long engine work, readline). Usage:
 *
 *   sylva_pty PROGRAM [ARGS...] < steps
 *
 * One step per line of standard input:
 *   send TEXT     type TEXT and Enter
 *   expect TEXT   wait (up to the timeout) until TEXT appears in the output
 *                 after the previous match
 *   intr          type Ctrl-C (the terminal sends SIGINT to the program)
 *   sleep SECS    wait (fractions allowed)
 *   timeout SECS  the timeout of later expect/wait steps (default 30)
 *   eof           type Ctrl-D
 *   wait          wait for the program to exit; it must exit with status 0
 * Exit status 0 when every step succeeded; otherwise 1 and the transcript
 * (everything the program wrote) on standard error.
 */
#define _DEFAULT_SOURCE
#include <errno.h>
#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

typedef struct transcript {
    char *buf;
    size_t len, cap;
    size_t mark; /* where the next expect starts searching */
} transcript;

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static void append(transcript *t, const char *s, size_t n)
{
    if (t->len + n + 1 > t->cap) {
        size_t cap = (t->len + n + 1) * 2;
        char *b = realloc(t->buf, cap);
        if (!b) {
            fprintf(stderr, "sylva_pty: out of memory\n");
            exit(2);
        }
        t->buf = b;
        t->cap = cap;
    }
    memcpy(t->buf + t->len, s, n);
    t->len += n;
    t->buf[t->len] = '\0';
}

/* Reads what the program wrote, for at most `secs`; returns -1 at EOF. */
static int pump(int fd, transcript *t, double secs)
{
    struct pollfd p = {fd, POLLIN, 0};
    int ms = (int)(secs * 1000);
    int r = poll(&p, 1, ms < 0 ? 0 : ms);
    if (r <= 0) return 0;
    char buf[4096];
    ssize_t n = read(fd, buf, sizeof buf);
    if (n <= 0) return -1; /* EIO once the child has gone */
    /* NUL bytes would end the strstr search early. */
    for (ssize_t i = 0; i < n; i++)
        if (buf[i] == '\0') buf[i] = ' ';
    append(t, buf, (size_t)n);
    return 1;
}

static int fail(transcript *t, const char *what, const char *arg)
{
    fprintf(stderr, "sylva_pty: %s%s%s\n--- transcript ---\n%s\n--- end ---\n",
            what, arg ? " " : "", arg ? arg : "", t->buf ? t->buf : "");
    return 1;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: sylva_pty PROGRAM [ARGS...] < steps\n");
        return 2;
    }
    int fd;
    struct winsize ws = {24, 100, 0, 0};
    pid_t pid = forkpty(&fd, NULL, NULL, &ws);
    if (pid < 0) {
        perror("sylva_pty: forkpty");
        return 2;
    }
    if (pid == 0) {
        execvp(argv[1], argv + 1);
        perror("sylva_pty: exec");
        _exit(127);
    }
    transcript t = {NULL, 0, 0, 0};
    append(&t, "", 0);
    double timeout = 30;
    char line[4096];
    int exited = 0, status = 0;
    while (fgets(line, sizeof line, stdin)) {
        size_t n = strlen(line);
        while (n && (line[n - 1] == '\n' || line[n - 1] == '\r')) line[--n] = '\0';
        if (n == 0 || line[0] == '#') continue;
        char *arg = strchr(line, ' ');
        if (arg) *arg++ = '\0';
        else arg = line + n;
        if (strcmp(line, "send") == 0) {
            pump(fd, &t, 0.05);
            if (write(fd, arg, strlen(arg)) < 0 || write(fd, "\r", 1) < 0)
                return fail(&t, "cannot write to the terminal", NULL);
        } else if (strcmp(line, "intr") == 0) {
            if (write(fd, "\003", 1) < 0) return fail(&t, "cannot write ^C", NULL);
        } else if (strcmp(line, "eof") == 0) {
            if (write(fd, "\004", 1) < 0) return fail(&t, "cannot write ^D", NULL);
        } else if (strcmp(line, "sleep") == 0) {
            double until = now() + atof(arg);
            while (now() < until)
                if (pump(fd, &t, until - now()) < 0) break;
        } else if (strcmp(line, "timeout") == 0) {
            timeout = atof(arg);
        } else if (strcmp(line, "expect") == 0) {
            double until = now() + timeout;
            char *hit;
            while (!(hit = strstr(t.buf + t.mark, arg))) {
                if (now() > until) return fail(&t, "timed out expecting", arg);
                if (pump(fd, &t, 0.2) < 0 && !strstr(t.buf + t.mark, arg))
                    return fail(&t, "program ended before printing", arg);
            }
            t.mark = (size_t)(hit - t.buf) + strlen(arg);
        } else if (strcmp(line, "wait") == 0) {
            double until = now() + timeout;
            for (;;) {
                pid_t w = waitpid(pid, &status, WNOHANG);
                if (w == pid) {
                    exited = 1;
                    break;
                }
                if (now() > until) {
                    kill(pid, SIGKILL);
                    waitpid(pid, &status, 0);
                    return fail(&t, "timed out waiting for the program to exit", NULL);
                }
                pump(fd, &t, 0.1);
            }
            while (pump(fd, &t, 0.1) > 0) {}
            if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
                char why[64];
                if (WIFSIGNALED(status)) snprintf(why, sizeof why, "killed by signal %d", WTERMSIG(status));
                else snprintf(why, sizeof why, "exit status %d", WEXITSTATUS(status));
                return fail(&t, "program ended badly:", why);
            }
        } else {
            return fail(&t, "unknown step", line);
        }
    }
    if (!exited) {
        kill(pid, SIGKILL);
        waitpid(pid, &status, 0);
    }
    printf("%s\n", t.buf);
    free(t.buf);
    return 0;
}
