/*
 * replay.c - runs a libFuzzer harness (tests/fuzz/fuzz_<name>.c) over
 * files and directories given on the command line, without libFuzzer.
 * ctest uses it in the ordinary and sanitized (gcc) builds to replay the
 * committed corpus, including every input that once crashed a parser, so
 * a fixed bug stays fixed even where clang's libFuzzer is not installed.
 * The inputs run on a thread with a 128 KiB stack, so code that recurses
 * once per level of its input (a tree walk, say) fails on a corpus entry of
 * modest size - the deep_chain entries - instead of needing megabytes.
 */
#define _POSIX_C_SOURCE 200809L
#include <dirent.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int run_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "replay: cannot open %s\n", path);
        return 1;
    }
    size_t cap = 4096, n = 0;
    uint8_t *buf = malloc(cap);
    size_t got;
    while (buf && (got = fread(buf + n, 1, cap - n, f)) > 0) {
        n += got;
        if (n == cap) {
            uint8_t *nb = realloc(buf, cap * 2);
            if (!nb) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = nb;
            cap *= 2;
        }
    }
    fclose(f);
    if (!buf) {
        fprintf(stderr, "replay: out of memory reading %s\n", path);
        return 1;
    }
    /* An exact-size copy, so reading one byte past the input is caught
     * by AddressSanitizer as libFuzzer would catch it. */
    uint8_t *exact = malloc(n ? n : 1);
    if (!exact) {
        free(buf);
        return 1;
    }
    memcpy(exact, buf, n);
    free(buf);
    LLVMFuzzerTestOneInput(exact, n);
    free(exact);
    return 0;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int run_path(const char *path, int *count)
{
    struct stat st;
    if (stat(path, &st) != 0) {
        fprintf(stderr, "replay: no such file or directory: %s\n", path);
        return 1;
    }
    if (!S_ISDIR(st.st_mode)) {
        (*count)++;
        return run_file(path);
    }
    DIR *d = opendir(path);
    if (!d) return 1;
    char **names = NULL;
    size_t n = 0, cap = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.') continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 64;
            char **nn = realloc(names, cap * sizeof *names);
            if (!nn) break;
            names = nn;
        }
        size_t len = strlen(path) + strlen(e->d_name) + 2;
        names[n] = malloc(len);
        if (!names[n]) break;
        snprintf(names[n], len, "%s/%s", path, e->d_name);
        n++;
    }
    closedir(d);
    qsort(names, n, sizeof *names, cmp_str);
    int rc = 0;
    for (size_t i = 0; i < n; i++) {
        rc |= run_path(names[i], count);
        free(names[i]);
    }
    free(names);
    return rc;
}

typedef struct replay_args {
    int argc;
    char **argv;
    int rc, count;
} replay_args;

static void *replay_all(void *ud)
{
    replay_args *a = ud;
    for (int i = 1; i < a->argc; i++) a->rc |= run_path(a->argv[i], &a->count);
    return NULL;
}

int main(int argc, char **argv)
{
    replay_args a = {argc, argv, 0, 0};
    pthread_attr_t attr;
    pthread_t th;
    if (pthread_attr_init(&attr) != 0 || pthread_attr_setstacksize(&attr, 128 << 10) != 0 ||
        pthread_create(&th, &attr, replay_all, &a) != 0) {
        fprintf(stderr, "replay: cannot start the 128 KiB-stack thread\n");
        return 1;
    }
    pthread_join(th, NULL);
    pthread_attr_destroy(&attr);
    int rc = a.rc, count = a.count;
    printf("replayed %d inputs\n", count);
    if (count == 0) {
        fprintf(stderr, "replay: no inputs (the seed corpus is missing)\n");
        return 1;
    }
    return rc;
}
