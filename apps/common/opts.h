/*
 * opts.h - a program's command line as one table: each option's names, the
 * kind of argument it takes, its range, where its value is stored and its
 * help line.  The parser (getopt_long underneath, so "-p5", "--port=5" and
 * abbreviated long names work as usual) checks every value against the
 * table, and the usage text is printed from it.
 *
 * A table, for a program whose settings are a struct options:
 *
 *     #define AT(field) OPT_AT(struct options, field)
 *     static const struct opt table[] = {
 *         { 'p', NULL, OPT_UINT, "PORT", AT(port), .min = 1, .max = 65535,
 *           .help = "the port (default 7)" },
 *         { 0, "udp", OPT_SET, NULL, AT(udp), .help = "datagrams, not TCP" },
 *     };
 */
#ifndef SHUNT_APPS_OPTS_H
#define SHUNT_APPS_OPTS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

enum opt_kind {
    OPT_SET,        /* no argument: a bool becomes true */
    OPT_CLEAR,      /* no argument: a bool becomes false */
    OPT_STRING,     /* a const char *: the argument as given */
    OPT_UINT,       /* a whole number in [min, max], into an unsigned or int of any size */
    OPT_REAL,       /* a double in [real_min, real_max] */
    OPT_CHOICE,     /* one of choices[] (NULL-terminated), its index into an int or enum */
    OPT_CUSTOM,     /* parse(argument, field) says whether it is good, and stores it */
    OPT_HELP,       /* no argument: the usage on stdout, and exit 0 */
    OPT_HEADING,    /* not an option: a heading in the usage text, help */
};

struct opt {
    char letter;                /* -x, or 0 */
    const char *name;           /* --name, or NULL */
    enum opt_kind kind;
    const char *arg;            /* the argument in the usage text, e.g. "PORT"; NULL: none */
    size_t offset, size;        /* the field the value goes to: OPT_AT(type, field) */
    uint64_t min, max;          /* OPT_UINT */
    double real_min, real_max;  /* OPT_REAL */
    const char *const *choices; /* OPT_CHOICE */
    int (*parse)(const char *arg, void *field);    /* OPT_CUSTOM: 0, or -1 if bad */
    unsigned gave;              /* bits or-ed into the parser's *gave when given */
    const char *help;           /* lines after the first start with '\n' */
};

/* A field of the options struct, for struct opt's offset and size. */
#define OPT_AT(type, field) offsetof(type, field), sizeof(((type *)0)->field)

struct opts_spec {
    const struct opt *opts;
    size_t count;
    const char *synopsis;       /* the usage lines above the options */
    int column;                 /* where the help texts start */
    int operands;               /* how many arguments may follow the options, at most */
    /* After a mistake: what to say, e.g. "see shunt-perf --help"; NULL:
     * print the whole usage. */
    const char *see;
};

/*
 * Parse the options of argv (argv[0] is the program or the mode) into
 * dest, or-ing the gave bits of those given into *gave.  The index of the
 * first argument that is not an option (they come last), or -1 after
 * saying what is wrong on stderr.
 */
int opts_parse(const struct opts_spec *spec, int argc, char **argv, void *dest, unsigned *gave);

/* The synopsis and every option with its help. */
void opts_usage(const struct opts_spec *spec, FILE *f);

/*
 * A program of modes (shunt-perf server|ping-pong|..., shunt-feed
 * publish|handle): argv[1] names one of modes (NULL-terminated).  Without
 * it the usage goes to stderr and the program exits 2; with -h or --help
 * to stdout, and it exits 0.  The mode's index, or -1 after saying which
 * modes there are.  The mode's options are then parsed from argv + 1.
 */
int opts_mode(const struct opts_spec *spec, const char *const *modes, int argc, char **argv);

/* "PROG MODE: what" on stderr, for a mistake the table cannot catch
 * (options that exclude each other, say); -1, to be returned. */
int opts_mode_error(const char *prog, const char *mode, const char *what);

/* The index of s in names (NULL-terminated), or -1. */
int opts_lookup(const char *const *names, const char *s);

#endif /* SHUNT_APPS_OPTS_H */
