/*
 * fuzz-config.c - libFuzzer target on the configuration parser
 * (stack/config.h): an input is a file's text.  What the parser promises,
 * checked on every input: an error is one line naming the file; a
 * configuration it accepts has an address and every string in it ends
 * inside its field.
 *
 * tests/fuzz/replay.c runs it without libFuzzer, over committed inputs.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "fuzz.h"

#define NAME "fuzz.conf"

static void fail(const char *what, const char *detail)
{
    fprintf(stderr, "fuzz-config: %s: %s\n", what, detail);
    abort();
}

#define ENDS_INSIDE(c, field) \
    do { \
        if (strnlen((c)->field, sizeof((c)->field)) == sizeof((c)->field)) \
            fail("a string runs past its field", #field); \
    } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *bytes, size_t size)
{
    char *text = malloc(size + 1), err[512];
    struct shunt_config c;

    if (text == NULL)
        fail("malloc", "no memory");
    memcpy(text, bytes, size);
    text[size] = '\0';
    err[0] = '\0';
    int r = shunt_config_parse(&c, text, NAME, err, sizeof(err));
    free(text);
    if (r != 0 && r != -1)
        fail("shunt_config_parse returned neither 0 nor -1", "");
    if (r == -1) {
        if (err[0] == '\0' || strchr(err, '\n') != NULL)
            fail("an error that is not one line", err);
        if (strncmp(err, NAME, strlen(NAME)) != 0)
            fail("an error that does not name the file", err);
        return 0;
    }
    if (!c.has_ip4 && !c.has_ip6)
        fail("accepted without an address", "");
    ENDS_INSIDE(&c, source);
    ENDS_INSIDE(&c, eal);
    ENDS_INSIDE(&c, port);
    ENDS_INSIDE(&c, capture);
    ENDS_INSIDE(&c, capture_filter);
    ENDS_INSIDE(&c, faults);
    ENDS_INSIDE(&c, program);
    ENDS_INSIDE(&c, accelerate);
    ENDS_INSIDE(&c, kernel);
    ENDS_INSIDE(&c, tcp_congestion);
    ENDS_INSIDE(&c, exception_ports);
    ENDS_INSIDE(&c, exception_iface);
    return 0;
}
