/*
 * nocheck.c - libcheck's two entry points for the packet-test harness
 * (tests/pkt/ring.c) run by a fuzz target instead of a libcheck runner,
 * which is what libcheck's own need (its messages go to the runner): a
 * check that holds costs nothing, one that fails says where and aborts, a
 * crash to libFuzzer and to the replay test.
 */
#include <check.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

void _mark_point(const char *file, int line)
{
    (void)file;
    (void)line;
}

void _ck_assert_failed(const char *file, int line, const char *expr, const char *msg, ...)
{
    fprintf(stderr, "%s:%d: %s", file, line, expr);
    if (msg != NULL) {
        va_list ap;
        va_start(ap, msg);
        fputs(": ", stderr);
        vfprintf(stderr, msg, ap);
        va_end(ap);
    }
    fputc('\n', stderr);
    abort();
}
