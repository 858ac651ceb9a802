/* tests/fuzz/standalone_main.c — runs a libFuzzer target without libFuzzer: each argument
 * is a file (replayed as one input) or a directory (every regular file in it, not
 * recursive). With no arguments, one input is read from stdin. Exit status 0 when every
 * input ran (a crash or an abort() in the target stops the program, as under libFuzzer). */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv) __attribute__((weak));

#define REPLAY_MAX_BYTES (64u * 1024u * 1024u)

static int
run_stream(FILE *f, const char *name)
{
    size_t cap = 65536, len = 0;
    uint8_t *buf = malloc(cap);
    if (buf == NULL)
        return -1;
    for (;;) {
        if (len == cap) {
            if (cap >= REPLAY_MAX_BYTES) {
                fprintf(stderr, "%s: larger than %u bytes, skipped\n", name, REPLAY_MAX_BYTES);
                free(buf);
                return -1;
            }
            uint8_t *nb = realloc(buf, cap * 2);
            if (nb == NULL) {
                free(buf);
                return -1;
            }
            buf = nb;
            cap *= 2;
        }
        size_t n = fread(buf + len, 1, cap - len, f);
        if (n == 0)
            break;
        len += n;
    }
    int bad = ferror(f);
    if (!bad) {
        /* hand the target an exactly sized copy so ASan sees reads past the end */
        uint8_t *exact = malloc(len ? len : 1);
        if (exact != NULL) {
            memcpy(exact, buf, len);
            LLVMFuzzerTestOneInput(exact, len);
            free(exact);
        }
    }
    free(buf);
    return bad ? -1 : 0;
}

static int
run_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        fprintf(stderr, "%s: cannot open\n", path);
        return -1;
    }
    int rc = run_stream(f, path);
    fclose(f);
    return rc;
}

static int
run_path(const char *path, int *count)
{
    struct stat sb;
    if (stat(path, &sb) != 0) {
        fprintf(stderr, "%s: not found\n", path);
        return -1;
    }
    if (!S_ISDIR(sb.st_mode)) {
        (*count)++;
        return run_file(path);
    }
    DIR *d = opendir(path);
    if (d == NULL) {
        fprintf(stderr, "%s: cannot open directory\n", path);
        return -1;
    }
    int rc = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        char sub[4096];
        if (snprintf(sub, sizeof sub, "%s/%s", path, e->d_name) >= (int)sizeof sub)
            continue;
        if (stat(sub, &sb) != 0 || !S_ISREG(sb.st_mode))
            continue;
        (*count)++;
        if (run_file(sub) != 0)
            rc = -1;
    }
    closedir(d);
    return rc;
}

int
main(int argc, char **argv)
{
    if (LLVMFuzzerInitialize)
        LLVMFuzzerInitialize(&argc, &argv);
    int count = 0, rc = 0;
    if (argc < 2) {
        count = 1;
        rc = run_stream(stdin, "<stdin>");
    }
    for (int i = 1; i < argc; i++)
        if (run_path(argv[i], &count) != 0)
            rc = -1;
    fprintf(stderr, "%d inputs replayed%s\n", count, rc ? " (some could not be read)" : "");
    return rc ? 1 : 0;
}
