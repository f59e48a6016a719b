/*
 * replay.c - a fuzz target's inputs, replayed without libFuzzer: the main
 * of the make check tests that keep every crash the fuzzers found
 * (tests/fuzz/regress/TARGET/).  Each argument is an input file or a
 * directory of them; without arguments, REGRESS_DIR.  An input that crashes
 * the target fails the test as it crashed the fuzzer (the target aborts);
 * no input at all fails it too: a replay of nothing checks nothing.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz.h"

static unsigned replayed;

static void replay_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    static uint8_t buf[1 << 20];

    if (f == NULL) {
        perror(path);
        exit(1);
    }
    size_t n = fread(buf, 1, sizeof(buf), f);
    fclose(f);
    printf("replay: %s (%zu bytes)\n", path, n);
    fflush(stdout);
    LLVMFuzzerTestOneInput(buf, n);
    replayed++;
}

static int by_name(const struct dirent **a, const struct dirent **b)
{
    return strcmp((*a)->d_name, (*b)->d_name);
}

static void replay(const char *path)
{
    struct stat st;
    struct dirent **names;

    if (stat(path, &st) != 0) {
        perror(path);
        exit(1);
    }
    if (!S_ISDIR(st.st_mode)) {
        replay_file(path);
        return;
    }
    int n = scandir(path, &names, NULL, by_name);
    for (int i = 0; i < n; i++) {
        char file[4096];
        if (names[i]->d_name[0] != '.') {
            snprintf(file, sizeof(file), "%s/%s", path, names[i]->d_name);
            replay_file(file);
        }
        free(names[i]);
    }
    free(names);
}

int main(int argc, char **argv)
{
    if (argc < 2)
        replay(REGRESS_DIR);
    for (int i = 1; i < argc; i++)
        replay(argv[i]);
    if (replayed == 0) {
        fprintf(stderr, "replay: no input\n");
        return 1;
    }
    printf("replay: %u inputs, no crash\n", replayed);
    return 0;
}
