/*
 * shunt-group - what shunt-run runs a program through: one process of it
 * per instance of the configuration's group (instances = N), each with
 * $SHUNT_INSTANCE set and $LD_PRELOAD the interposer, started and stopped
 * together (common/group.h); a configuration of one instance just runs it.
 *
 *     shunt-group [-c FILE] [--instance I] [--] PROGRAM [ARGS...]
 *
 * The interposer comes in $SHUNT_GROUP_PRELOAD, not $LD_PRELOAD, so that
 * it is not loaded into this launcher itself.
 */
#include <stdlib.h>

#include "app.h"
#include "group.h"
#include "opts.h"

const char app_name[] = "shunt-group";

struct options {
    const char *config;
    const char *instance;
};

#define AT(field) OPT_AT(struct options, field)

static const struct opt table[] = {
    { 'c', NULL, OPT_STRING, "FILE", AT(config), .help = "the group's configuration (default: $SHUNT_CONFIG)" },
    { 0, "instance", OPT_STRING, "I", AT(instance), .help = "run instance I alone" },
    { 'h', "help", OPT_HELP, .help = "this help" },
};

static const struct opts_spec spec = {
    table, sizeof(table) / sizeof(table[0]),
    "usage: shunt-group [-c FILE] [--instance I] [--] PROGRAM [ARGS...]\n\n", 20, 1 << 20, NULL,
};

int main(int argc, char **argv)
{
    struct options o = { 0 };
    unsigned gave = 0;

    int first = opts_parse(&spec, argc, argv, &o, &gave);
    if (first < 0)
        return 2;
    if (first >= argc) {
        opts_usage(&spec, stderr);
        return 2;
    }
    return group_exec(o.config, o.instance, getenv("SHUNT_GROUP_PRELOAD"), argv + first);
}
