/*
 * opts.c - see opts.h.
 */
#define _GNU_SOURCE
#include "opts.h"

#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"

int opts_lookup(const char *const *names, const char *s)
{
    for (int i = 0; names[i] != NULL; i++)
        if (strcmp(names[i], s) == 0)
            return i;
    return -1;
}

static bool takes_argument(const struct opt *o)
{
    return o->kind != OPT_SET && o->kind != OPT_CLEAR && o->kind != OPT_HELP;
}

/* An unsigned value into a field of 1, 2, 4 or 8 bytes (an int field gets
 * the same bits, and the table's max keeps the value within it). */
static void store_uint(void *field, size_t size, uint64_t v)
{
    uint8_t v8 = (uint8_t)v;
    uint16_t v16 = (uint16_t)v;
    uint32_t v32 = (uint32_t)v;

    switch (size) {
    case 1: memcpy(field, &v8, 1); break;
    case 2: memcpy(field, &v16, 2); break;
    case 4: memcpy(field, &v32, 4); break;
    default: memcpy(field, &v, sizeof(v)); break;
    }
}

/* Decimal digits only, the whole of s, within [min, max]. */
static bool parse_uint(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
    char *end;

    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0' || s[0] == '-' || v < min || v > max)
        return false;
    *out = v;
    return true;
}

static bool parse_real(const char *s, double min, double max, double *out)
{
    char *end;

    errno = 0;
    double v = strtod(s, &end);
    if (errno != 0 || end == s || *end != '\0' || !isfinite(v) || v < min || v > max)
        return false;
    *out = v;
    return true;
}

/* Store o's value (arg: its argument, or NULL) in dest; false if arg is bad. */
static bool set_value(const struct opt *o, const char *arg, void *dest)
{
    void *field = (char *)dest + o->offset;
    uint64_t u;
    double d;
    int i;

    switch (o->kind) {
    case OPT_SET:
    case OPT_CLEAR:
        *(bool *)field = o->kind == OPT_SET;
        return true;
    case OPT_STRING:
        *(const char **)field = arg;
        return true;
    case OPT_UINT:
        if (!parse_uint(arg, o->min, o->max, &u))
            return false;
        store_uint(field, o->size, u);
        return true;
    case OPT_REAL:
        if (!parse_real(arg, o->real_min, o->real_max, &d))
            return false;
        *(double *)field = d;
        return true;
    case OPT_CHOICE:
        if ((i = opts_lookup(o->choices, arg)) < 0)
            return false;
        *(int *)field = i;
        return true;
    case OPT_CUSTOM:
        return o->parse(arg, field) == 0;
    case OPT_HELP:
    case OPT_HEADING:
        break;
    }
    return false;
}

/* The end of a line that said what is wrong: the hint, or the whole usage. */
static void see_also(const struct opts_spec *spec)
{
    if (spec->see != NULL) {
        fprintf(stderr, "; %s\n", spec->see);
        return;
    }
    fputc('\n', stderr);
    opts_usage(spec, stderr);
}

/* Tables are small; a larger one is a mistake in the program. */
#define OPTS_MAX 63

/* getopt_long's view of a table: the short options ("c:p:q") and the long
 * ones, whose val is the table index + 256. */
struct getopt_view {
    char shorts[2 * OPTS_MAX + 2];
    struct option longs[OPTS_MAX + 1];
};

static void getopt_view(const struct opts_spec *spec, struct getopt_view *v)
{
    char *s = v->shorts;
    size_t n = 0;

    if (spec->count > OPTS_MAX) {
        fprintf(stderr, "%s: more than %d options in the table\n", app_name, OPTS_MAX);
        abort();
    }
    *s++ = ':';                 /* a missing argument is ours to report */
    for (size_t i = 0; i < spec->count; i++) {
        const struct opt *o = &spec->opts[i];
        int has_arg = takes_argument(o) ? required_argument : no_argument;
        if (o->kind == OPT_HEADING)
            continue;
        if (o->letter) {
            *s++ = o->letter;
            if (has_arg == required_argument)
                *s++ = ':';
        }
        if (o->name)
            v->longs[n++] = (struct option){ o->name, has_arg, NULL, (int)i + 256 };
    }
    *s = '\0';
    v->longs[n] = (struct option){ NULL, 0, NULL, 0 };
}

static const struct opt *by_letter(const struct opts_spec *spec, int letter)
{
    for (size_t i = 0; i < spec->count; i++)
        if (spec->opts[i].kind != OPT_HEADING && spec->opts[i].letter == letter)
            return &spec->opts[i];
    return NULL;
}

/* getopt's code for an option (a letter, or index + 256) as it is written. */
static void written(const struct opts_spec *spec, int c, char *out, size_t len)
{
    if (c >= 256)
        snprintf(out, len, "--%s", spec->opts[c - 256].name);
    else
        snprintf(out, len, "-%c", c);
}

int opts_parse(const struct opts_spec *spec, int argc, char **argv, void *dest, unsigned *gave)
{
    struct getopt_view v;
    char name[64];
    int c;

    getopt_view(spec, &v);
    optind = 1;
    opterr = 0;                 /* the messages are ours */
    while ((c = getopt_long(argc, argv, v.shorts, v.longs, NULL)) != -1) {
        if (c == '?' || c == ':') {
            /* optopt is 0 for a long option that does not exist. */
            if (optopt)
                written(spec, optopt, name, sizeof(name));
            else
                snprintf(name, sizeof(name), "%s", argv[optind - 1]);
            fprintf(stderr, "%s: %s %s", app_name,
                    c == '?' ? "unknown option" : "a value is missing after", name);
            see_also(spec);
            return -1;
        }
        const struct opt *o = c >= 256 ? &spec->opts[c - 256] : by_letter(spec, c);
        if (o->kind == OPT_HELP) {
            opts_usage(spec, stdout);
            exit(0);
        }
        if (!set_value(o, optarg, dest)) {
            written(spec, c, name, sizeof(name));
            fprintf(stderr, "%s: bad value '%s' for %s", app_name, optarg, name);
            see_also(spec);
            return -1;
        }
        *gave |= o->gave;
    }
    if (argc - optind > spec->operands) {
        fprintf(stderr, "%s: unexpected argument '%s'\n", app_name, argv[optind + spec->operands]);
        return -1;
    }
    return optind;
}

/* "-c FILE", "--kernel", "-q, --quiet": how the usage names an option. */
static void usage_names(const struct opt *o, char *out, size_t len)
{
    int n = 0;

    if (o->letter && o->name)
        n = snprintf(out, len, "-%c, --%s", o->letter, o->name);
    else if (o->letter)
        n = snprintf(out, len, "-%c", o->letter);
    else
        n = snprintf(out, len, "--%s", o->name);
    if (o->arg && n >= 0 && (size_t)n < len)
        snprintf(out + n, len - (size_t)n, " %s", o->arg);
}

void opts_usage(const struct opts_spec *spec, FILE *f)
{
    fputs(spec->synopsis, f);
    for (size_t i = 0; i < spec->count; i++) {
        const struct opt *o = &spec->opts[i];
        char names[64];
        if (o->kind == OPT_HEADING) {
            fprintf(f, "%s\n", o->help);
            continue;
        }
        usage_names(o, names, sizeof(names));
        /* A name too long for the column keeps two spaces before its help. */
        int width = spec->column - 2;
        if ((int)strlen(names) + 2 <= width)
            fprintf(f, "  %-*s", width, names);
        else
            fprintf(f, "  %s  ", names);
        /* Each further line of help starts at the column. */
        for (const char *h = o->help; *h != '\0';) {
            size_t line = strcspn(h, "\n");
            fprintf(f, "%.*s\n", (int)line, h);
            h += line;
            if (*h == '\n' && *++h != '\0')
                fprintf(f, "%*s", spec->column, "");
        }
    }
}

int opts_mode(const struct opts_spec *spec, const char *const *modes, int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0) {
        opts_usage(spec, argc < 2 ? stderr : stdout);
        exit(argc < 2 ? 2 : 0);
    }
    int mode = opts_lookup(modes, argv[1]);
    if (mode >= 0)
        return mode;
    fprintf(stderr, "%s: unknown mode '%s': ", app_name, argv[1]);
    for (int i = 0; modes[i] != NULL; i++)
        fprintf(stderr, "%s%s", modes[i], modes[i + 1] == NULL ? "\n" : modes[i + 2] == NULL ? " or " : ", ");
    return -1;
}

int opts_mode_error(const char *prog, const char *mode, const char *what)
{
    fprintf(stderr, "%s %s: %s\n", prog, mode, what);
    return -1;
}
