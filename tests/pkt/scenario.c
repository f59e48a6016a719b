/*
 * scenario.c - the scenario format (scenario.h): lines into events, and
 * segments to text, to and from the wire's options, and compared.
 */
#include "scenario.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_tcp.h>

/* The flags' letters, in the order a segment prints them ('.' last). */
static const struct {
    char c;
    uint8_t flag;
} flag_names[] = {
    { 'S', RTE_TCP_SYN_FLAG }, { 'F', RTE_TCP_FIN_FLAG }, { 'R', RTE_TCP_RST_FLAG },
    { 'P', RTE_TCP_PSH_FLAG }, { 'U', RTE_TCP_URG_FLAG }, { 'E', RTE_TCP_ECE_FLAG },
    { 'W', RTE_TCP_CWR_FLAG }, { '.', RTE_TCP_ACK_FLAG },
};
#define NFLAGS (sizeof(flag_names) / sizeof(flag_names[0]))

enum { OPT_EOL = 0, OPT_NOP = 1, OPT_MSS = 2, OPT_WS = 3, OPT_SACK_PERM = 4, OPT_SACK = 5,
       OPT_TS = 8 };

/* ---- reading a line ------------------------------------------------------ */

/* A cursor over one line, and where its error goes. */
struct cur {
    const char *p;
    char *err;
    size_t errlen;
};

static bool fail(struct cur *c, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(c->err, c->errlen, fmt, ap);
    va_end(ap);
    return false;
}

static void skip_space(struct cur *c)
{
    while (isspace((unsigned char)*c->p))
        c->p++;
}

/* The word at the cursor (letters, digits, _ and -), lowercase or not. */
static bool word(struct cur *c, char *out, size_t len)
{
    size_t n = 0;

    skip_space(c);
    while (isalnum((unsigned char)c->p[n]) || c->p[n] == '_' || c->p[n] == '-')
        n++;
    if (n == 0 || n >= len)
        return fail(c, "expected a word at '%s'", c->p);
    memcpy(out, c->p, n);
    out[n] = '\0';
    c->p += n;
    return true;
}

static bool accept_char(struct cur *c, char ch)
{
    skip_space(c);
    if (*c->p != ch)
        return false;
    c->p++;
    return true;
}

static bool expect_char(struct cur *c, char ch)
{
    return accept_char(c, ch) || fail(c, "expected '%c' at '%s'", ch, c->p);
}

static bool number(struct cur *c, uint32_t *v)
{
    char *end;

    skip_space(c);
    if (!isdigit((unsigned char)*c->p))
        return fail(c, "expected a number at '%s'", c->p);
    errno = 0;
    unsigned long long x = strtoull(c->p, &end, 10);
    if (errno != 0 || x > UINT32_MAX)
        return fail(c, "%.*s is more than 32 bits", (int)(end - c->p), c->p);
    c->p = end;
    *v = (uint32_t)x;
    return true;
}

/* A number, or "*" where allow_any allows it. */
static bool num(struct cur *c, struct scn_num *n, bool allow_any)
{
    n->any = accept_char(c, '*');
    if (n->any)
        return allow_any || fail(c, "'*' only in a segment Shunt sends, or as ecr");
    return number(c, &n->v);
}

/* ---- times ------------------------------------------------------------- */

/* "+1.25" or "1.25": milliseconds, and whether it was relative. */
static bool time_ms(struct cur *c, uint64_t *ms, bool *relative)
{
    uint32_t s, frac = 0;
    int digits = 0;

    *relative = accept_char(c, '+');
    if (!number(c, &s))
        return false;
    if (*c->p == '.') {
        for (c->p++; isdigit((unsigned char)*c->p); c->p++, digits++) {
            if (digits == 3)
                return fail(c, "times are in milliseconds: at most 3 decimals");
            frac = frac * 10 + (uint32_t)(*c->p - '0');
        }
        for (int d = digits; d < 3; d++)
            frac *= 10;
    }
    *ms = (uint64_t)s * 1000 + frac;
    return true;
}

static bool event_time(struct cur *c, struct scn_event *e)
{
    bool rel, rel2;

    if (!time_ms(c, &e->at_ms, &rel))
        return false;
    e->absolute = !rel;
    e->until_ms = e->at_ms;
    if (*c->p != '~')
        return true;
    c->p++;
    if (!time_ms(c, &e->until_ms, &rel2))
        return false;
    if (rel2 != rel || e->until_ms < e->at_ms)
        return fail(c, "a time range goes from one time to a later one, both relative "
                    "(+) or both absolute");
    return true;
}

/* ---- segments ---------------------------------------------------------- */

static bool flags(struct cur *c, uint8_t *f)
{
    *f = 0;
    skip_space(c);
    while (*c->p != '\0' && !isspace((unsigned char)*c->p)) {
        size_t i = 0;
        while (i < NFLAGS && flag_names[i].c != *c->p)
            i++;
        if (i == NFLAGS)
            return fail(c, "'%c' is no flag (S F R P U E W .)", *c->p);
        *f |= flag_names[i].flag;
        c->p++;
    }
    return *f != 0 || fail(c, "a segment needs its flags");
}

/* One option of a <...> list. */
static bool option(struct cur *c, struct scn_opt *o, bool allow_any)
{
    char w[16];

    if (!word(c, w, sizeof(w)))
        return false;
    o->n = 0;
    if (strcmp(w, "nop") == 0 || strcmp(w, "eol") == 0) {
        o->kind = w[0] == 'n' ? OPT_NOP : OPT_EOL;
        return true;
    }
    if (strcmp(w, "sackOK") == 0) {
        o->kind = OPT_SACK_PERM;
        return true;
    }
    if (strcmp(w, "mss") == 0 || strcmp(w, "wscale") == 0) {
        o->kind = w[0] == 'm' ? OPT_MSS : OPT_WS;
        o->n = 1;
        return num(c, &o->v[0], allow_any);
    }
    if (strcmp(w, "TS") == 0) {
        char v[8];
        o->kind = OPT_TS;
        o->n = 2;
        if (!word(c, v, sizeof(v)) || strcmp(v, "val") != 0 || !num(c, &o->v[0], allow_any) ||
            !word(c, v, sizeof(v)) || strcmp(v, "ecr") != 0)
            return fail(c, "TS is \"TS val N ecr N\"");
        return num(c, &o->v[1], true);              /* "ecr *" echoes Shunt's val */
    }
    if (strcmp(w, "sack") == 0) {
        o->kind = OPT_SACK;
        do {
            if (o->n == SCN_MAX_NUMS)
                return fail(c, "at most %d SACK blocks", SCN_MAX_NUMS / 2);
            if (!num(c, &o->v[o->n++], allow_any) || !expect_char(c, ':') ||
                !num(c, &o->v[o->n++], allow_any))
                return false;
            skip_space(c);
        } while (isdigit((unsigned char)*c->p) || *c->p == '*');
        return true;
    }
    return fail(c, "unknown option '%s' (mss, wscale, sackOK, TS, sack, nop, eol)", w);
}

static bool segment(struct cur *c, struct scn_seg *g, bool out)
{
    struct scn_num end;
    char w[8];

    memset(g, 0, sizeof(*g));
    if (!flags(c, &g->flags) || !num(c, &g->seq, out) || !expect_char(c, ':') ||
        !num(c, &end, out) || !expect_char(c, '(') || !num(c, &g->len, out) ||
        !expect_char(c, ')'))
        return false;
    if (!g->seq.any && !end.any && !g->len.any && end.v != g->seq.v + g->len.v)
        return fail(c, "%u:%u(%u): the end is not the start plus the length", g->seq.v, end.v,
                    g->len.v);
    for (;;) {
        skip_space(c);
        if (*c->p == '\0')
            return true;
        if (accept_char(c, '<'))
            break;
        if (!word(c, w, sizeof(w)))
            return false;
        if (strcmp(w, "ack") == 0) {
            if (!(g->flags & RTE_TCP_ACK_FLAG))
                return fail(c, "an ack number without the ACK flag (.)");
            g->has_ack = true;
            if (!num(c, &g->ack, out))
                return false;
        } else if (strcmp(w, "win") == 0) {
            g->has_win = true;
            if (!num(c, &g->win, out))
                return false;
        } else {
            return fail(c, "'%s': expected ack, win or <options>", w);
        }
    }
    g->has_opts = true;
    if (accept_char(c, '>'))
        return true;                    /* <>: none at all */
    do {
        if (g->nopts == SCN_MAX_OPTS)
            return fail(c, "at most %d options", SCN_MAX_OPTS);
        if (!option(c, &g->opts[g->nopts++], out))
            return false;
    } while (accept_char(c, ','));
    if (!expect_char(c, '>'))
        return false;
    skip_space(c);
    return *c->p == '\0' || fail(c, "'%s' after the options", c->p);
}

/* ---- socket calls ------------------------------------------------------ */

static const struct {
    const char *name;
    int err;
} errnos[] = {
    { "EAGAIN", EAGAIN }, { "EINPROGRESS", EINPROGRESS }, { "ECONNRESET", ECONNRESET },
    { "ECONNREFUSED", ECONNREFUSED }, { "ETIMEDOUT", ETIMEDOUT }, { "EPIPE", EPIPE },
    { "ENOTCONN", ENOTCONN }, { "EISCONN", EISCONN }, { "EALREADY", EALREADY },
    { "EINVAL", EINVAL }, { "EBADF", EBADF }, { "EADDRINUSE", EADDRINUSE },
    { "ECONNABORTED", ECONNABORTED },
};

int scn_errno(const char *name)
{
    for (size_t i = 0; i < sizeof(errnos) / sizeof(errnos[0]); i++)
        if (strcmp(errnos[i].name, name) == 0)
            return errnos[i].err;
    return 0;
}

const char *scn_errno_name(int err)
{
    for (size_t i = 0; i < sizeof(errnos) / sizeof(errnos[0]); i++)
        if (errnos[i].err == err)
            return errnos[i].name;
    return err == 0 ? "0" : strerror(err);
}

/* name(arg, [out, ...], ...) = ret [ERRNO] */
static bool call(struct cur *c, struct scn_call *k)
{
    char e[16];

    memset(k, 0, sizeof(*k));
    if (!word(c, k->name, sizeof(k->name)) || !expect_char(c, '('))
        return false;
    skip_space(c);
    while (*c->p != ')') {
        const char *a = c->p;
        int depth = 0;
        while (*c->p != '\0' && (depth > 0 || (*c->p != ',' && *c->p != ')'))) {
            depth += *c->p == '[' ? 1 : *c->p == ']' ? -1 : 0;
            c->p++;
        }
        if (*c->p == '\0')
            return fail(c, "the call's ')' is missing");
        size_t n = (size_t)(c->p - a);
        while (n > 0 && isspace((unsigned char)a[n - 1]))
            n--;
        if (k->nargs == SCN_MAX_ARGS || n >= sizeof(k->args[0]))
            return fail(c, "too many or too long arguments");
        memcpy(k->args[k->nargs], a, n);
        k->args[k->nargs++][n] = '\0';
        if (accept_char(c, ','))
            skip_space(c);
    }
    c->p++;
    if (!expect_char(c, '='))
        return false;
    skip_space(c);
    bool neg = accept_char(c, '-');
    uint32_t v;
    if (!number(c, &v))
        return false;
    k->ret = neg ? -(long)v : (long)v;
    skip_space(c);
    if (*c->p == '\0')
        return k->ret != -1 || fail(c, "-1 needs its errno, e.g. = -1 EAGAIN");
    if (k->ret != -1 || !word(c, e, sizeof(e)) || (k->err = scn_errno(e)) == 0)
        return fail(c, "after '= -1' an errno Shunt's tests know (EAGAIN, ECONNRESET...)");
    skip_space(c);
    return *c->p == '\0' || fail(c, "'%s' after the call", c->p);
}

/* ---- a file ------------------------------------------------------------ */

/* The line without its comment and its spaces at either end. */
static char *trim(char *line)
{
    char *hash = strchr(line, '#');

    if (hash != NULL)
        *hash = '\0';
    while (isspace((unsigned char)*line))
        line++;
    size_t n = strlen(line);
    while (n > 0 && isspace((unsigned char)line[n - 1]))
        line[--n] = '\0';
    return line;
}

static bool directive(struct cur *c, struct scn_script *s, struct scn_event *e)
{
    if (strncmp(c->p, "config ", 7) == 0) {
        if (s->n > 0)
            return fail(c, "config lines come before every event");
        size_t used = strlen(s->config);
        if (used + strlen(c->p + 7) + 2 > sizeof(s->config))
            return fail(c, "too much configuration");
        snprintf(s->config + used, sizeof(s->config) - used, "%s\n", c->p + 7);
        return true;
    }
    uint32_t port;
    c->p += 5;
    if (!number(c, &port) || port == 0 || port > 65535)
        return fail(c, "port takes a port number");
    e->kind = SCN_PORT;
    e->u.port = (uint16_t)port;
    s->n++;
    return true;
}

static bool timed_event(struct cur *c, struct scn_event *e)
{
    char w[16];

    if (!event_time(c, e))
        return false;
    skip_space(c);
    snprintf(e->text, sizeof(e->text), "%s", c->p);
    if (e->until_ms != e->at_ms && *c->p != '>')
        return fail(c, "a time range is for a segment Shunt sends (>)");
    if ((*c->p == '<' || *c->p == '>') && isspace((unsigned char)c->p[1])) {
        e->kind = *c->p == '<' ? SCN_IN : SCN_OUT;
        c->p++;
        return segment(c, &e->u.seg, e->kind == SCN_OUT);
    }
    const char *before = c->p;
    if (!word(c, w, sizeof(w)))
        return false;
    if (strcmp(w, "wait") == 0) {
        e->kind = SCN_WAIT;
        skip_space(c);
        return *c->p == '\0' || fail(c, "wait takes nothing: its time says how long");
    }
    if (strcmp(w, "state") == 0) {
        e->kind = SCN_STATE;
        return word(c, e->u.state, sizeof(e->u.state));
    }
    c->p = before;
    e->kind = SCN_CALL;
    return call(c, &e->u.call);
}

bool scn_read(const char *path, struct scn_script *s, char *err, size_t errlen)
{
    FILE *f = fopen(path, "r");
    char buf[SCN_LINE];
    unsigned cap = 0;
    int lineno = 0;

    memset(s, 0, sizeof(*s));
    if (f == NULL) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return false;
    }
    while (fgets(buf, sizeof(buf), f) != NULL) {
        lineno++;
        char msg[192] = "";
        struct cur c = { trim(buf), msg, sizeof(msg) };
        if (*c.p == '\0')
            continue;
        if (s->n == cap) {
            cap = cap ? 2 * cap : 64;
            s->ev = realloc(s->ev, cap * sizeof(*s->ev));
        }
        struct scn_event *e = &s->ev[s->n];
        memset(e, 0, sizeof(*e));
        e->line = lineno;
        snprintf(e->text, sizeof(e->text), "%s", c.p);
        bool ok;
        if (strncmp(c.p, "config ", 7) == 0 || strncmp(c.p, "port ", 5) == 0) {
            ok = directive(&c, s, e);
        } else {
            ok = timed_event(&c, e);
            s->n += ok;
        }
        if (!ok) {
            snprintf(err, errlen, "%s:%d: %s", path, lineno, msg);
            fclose(f);
            scn_free(s);
            return false;
        }
    }
    fclose(f);
    return true;
}

void scn_free(struct scn_script *s)
{
    free(s->ev);
    s->ev = NULL;
    s->n = 0;
}

/* ---- segments as text -------------------------------------------------- */

struct out {
    char *p;
    size_t left;
};

static void put(struct out *o, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    int n = vsnprintf(o->p, o->left, fmt, ap);
    va_end(ap);
    if (n >= 0 && (size_t)n < o->left) {
        o->p += n;
        o->left -= (size_t)n;
    } else {
        o->p += o->left > 0 ? o->left - 1 : 0;
        o->left = o->left > 0 ? 1 : 0;
    }
}

static void put_num(struct out *o, struct scn_num n)
{
    if (n.any)
        put(o, "*");
    else
        put(o, "%u", n.v);
}

static void put_opt(struct out *o, const struct scn_opt *op)
{
    switch (op->kind) {
    case OPT_EOL: put(o, "eol"); return;
    case OPT_NOP: put(o, "nop"); return;
    case OPT_SACK_PERM: put(o, "sackOK"); return;
    case OPT_MSS: put(o, "mss "); put_num(o, op->v[0]); return;
    case OPT_WS: put(o, "wscale "); put_num(o, op->v[0]); return;
    case OPT_TS:
        put(o, "TS val ");
        put_num(o, op->v[0]);
        put(o, " ecr ");
        put_num(o, op->v[1]);
        return;
    case OPT_SACK:
        put(o, "sack");
        for (unsigned i = 0; i + 1 < op->n; i += 2) {
            put(o, " ");
            put_num(o, op->v[i]);
            put(o, ":");
            put_num(o, op->v[i + 1]);
        }
        return;
    default:
        put(o, "kind %u len %u", op->kind, op->v[0].v);
    }
}

void scn_format(const struct scn_seg *g, char *buf, size_t len)
{
    struct out o = { buf, len };

    buf[0] = '\0';
    for (size_t i = 0; i < NFLAGS; i++)
        if (g->flags & flag_names[i].flag)
            put(&o, "%c", flag_names[i].c);
    put(&o, " ");
    put_num(&o, g->seq);
    put(&o, ":");
    if (g->seq.any || g->len.any)
        put(&o, "*");
    else
        put(&o, "%u", g->seq.v + g->len.v);
    put(&o, "(");
    put_num(&o, g->len);
    put(&o, ")");
    if (g->has_ack) {
        put(&o, " ack ");
        put_num(&o, g->ack);
    }
    if (g->has_win) {
        put(&o, " win ");
        put_num(&o, g->win);
    }
    if (g->has_opts) {
        put(&o, " <");
        for (unsigned i = 0; i < g->nopts; i++) {
            put(&o, i ? "," : "");
            put_opt(&o, &g->opts[i]);
        }
        put(&o, ">");
    }
}

/* ---- options on the wire ----------------------------------------------- */

static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void put_be32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

static struct scn_num known(uint32_t v)
{
    return (struct scn_num){ .any = false, .v = v };
}

/* One option at o (left bytes remain): its length, 0 when it runs past. */
static size_t parse_one(const uint8_t *o, size_t left, struct scn_opt *op)
{
    op->kind = o[0];
    op->n = 0;
    if (o[0] == OPT_EOL || o[0] == OPT_NOP)
        return 1;
    if (left < 2 || o[1] < 2 || o[1] > left)
        return 0;
    size_t len = o[1];
    switch (o[0]) {
    case OPT_MSS:
        if (len != 4)
            break;
        op->n = 1;
        op->v[0] = known((uint32_t)o[2] << 8 | o[3]);
        return len;
    case OPT_WS:
        if (len != 3)
            break;
        op->n = 1;
        op->v[0] = known(o[2]);
        return len;
    case OPT_SACK_PERM:
        if (len != 2)
            break;
        return len;
    case OPT_TS:
        if (len != 10)
            break;
        op->n = 2;
        op->v[0] = known(be32(o + 2));
        op->v[1] = known(be32(o + 6));
        return len;
    case OPT_SACK:
        if ((len - 2) % 8 != 0 || (len - 2) / 4 > SCN_MAX_NUMS)
            break;
        for (size_t i = 2; i < len; i += 4)
            op->v[op->n++] = known(be32(o + i));
        return len;
    }
    op->n = 1;                          /* another kind, or a length its kind never has */
    op->v[0] = known((uint32_t)len);
    return len;
}

bool scn_opts_parse(const uint8_t *o, size_t len, struct scn_seg *g)
{
    size_t at = 0;

    g->has_opts = true;
    g->nopts = 0;
    while (at < len) {
        if (g->nopts == SCN_MAX_OPTS)
            return false;
        struct scn_opt *op = &g->opts[g->nopts];
        size_t n = parse_one(o + at, len - at, op);
        if (n == 0)
            return false;
        if (op->kind == OPT_EOL)        /* the end: what follows is padding */
            return true;
        g->nopts++;
        at += n;
    }
    return true;
}

size_t scn_opts_build(const struct scn_seg *g, uint8_t *o)
{
    size_t n = 0;

    for (unsigned i = 0; i < g->nopts && n < 40; i++) {
        const struct scn_opt *op = &g->opts[i];
        uint8_t b[40] = { op->kind };
        size_t len = 1;
        switch (op->kind) {
        case OPT_MSS: len = 4; b[2] = (uint8_t)(op->v[0].v >> 8); b[3] = (uint8_t)op->v[0].v; break;
        case OPT_WS: len = 3; b[2] = (uint8_t)op->v[0].v; break;
        case OPT_SACK_PERM: len = 2; break;
        case OPT_TS: len = 10; put_be32(b + 2, op->v[0].v); put_be32(b + 6, op->v[1].v); break;
        case OPT_SACK:
            len = 2 + 4 * op->n;
            for (unsigned k = 0; k < op->n; k++)
                put_be32(b + 2 + 4 * k, op->v[k].v);
            break;
        }
        if (len > 1)
            b[1] = (uint8_t)len;
        if (n + len > 40)
            break;
        memcpy(o + n, b, len);
        n += len;
    }
    while (n % 4 != 0)
        o[n++] = OPT_EOL;
    return n;
}

/* ---- comparing --------------------------------------------------------- */

static bool same(struct scn_num want, struct scn_num got)
{
    return want.any || want.v == got.v;
}

static bool same_opts(const struct scn_seg *want, const struct scn_seg *got)
{
    if (want->nopts != got->nopts)
        return false;
    for (unsigned i = 0; i < want->nopts; i++) {
        const struct scn_opt *w = &want->opts[i], *g = &got->opts[i];
        if (w->kind != g->kind || w->n != g->n)
            return false;
        for (unsigned k = 0; k < w->n; k++)
            if (!same(w->v[k], g->v[k]))
                return false;
    }
    return true;
}

bool scn_match(const struct scn_seg *want, const struct scn_seg *got, char *why, size_t len)
{
    const char *bad = want->flags != got->flags ? "the flags"
                    : !same(want->seq, got->seq) ? "the sequence number"
                    : !same(want->len, got->len) ? "the length"
                    : want->has_ack && !same(want->ack, got->ack) ? "the ack number"
                    : want->has_win && !same(want->win, got->win) ? "the window"
                    : want->has_opts && !same_opts(want, got) ? "the options"
                    : NULL;

    if (bad != NULL)
        snprintf(why, len, "%s differ%s", bad, strcmp(bad, "the options") == 0 ||
                 strcmp(bad, "the flags") == 0 ? "" : "s");
    return bad == NULL;
}
