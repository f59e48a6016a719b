/*
 * sockstat.c - the instance's sockets as ss(8) shows the kernel's: every
 * lwIP pcb (listening, connected, closing, in TIME-WAIT, UDP), with its
 * socket's descriptor and queues when it still has one.  The answer to
 * telemetry's /shunt/sockets (stack/telemetry.h), on the instance's thread.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "lwip/priv/tcp_priv.h"
#include "lwip/tcp.h"
#include "lwip/udp.h"

#include "fd.h"
#include "recovery.h"
#include "sock.h"
#include "sockstat.h"
#include "tcp.h"
#include "telemetry.h"
#include "udp.h"

/* Sockets per reply: telemetry's replies are at most 16 KiB (a socket
 * with its latency summaries takes some 700 bytes). */
#define PAGE 16

/* ss's names for TCP states, by lwIP's numbers. */
static const char *const state_names[] = {
    [CLOSED] = "CLOSE", [LISTEN] = "LISTEN", [SYN_SENT] = "SYN-SENT",
    [SYN_RCVD] = "SYN-RECV", [ESTABLISHED] = "ESTAB", [FIN_WAIT_1] = "FIN-WAIT-1",
    [FIN_WAIT_2] = "FIN-WAIT-2", [CLOSE_WAIT] = "CLOSE-WAIT", [CLOSING] = "CLOSING",
    [LAST_ACK] = "LAST-ACK", [TIME_WAIT] = "TIME-WAIT",
};

const char *shunt_sockstat_state_name(int state)
{
    if (state < 0 || state >= (int)(sizeof(state_names) / sizeof(state_names[0])))
        return "?";
    return state_names[state];
}

/* "10.9.0.2:7", "[fd00:9::2]:7", "*:7" */
static void endpoint(const ip_addr_t *ip, uint16_t port, char *out, size_t len)
{
    char a[IPADDR_STRLEN_MAX];

    if (ip_addr_isany(ip))
        snprintf(out, len, "*:%u", port);
    else if (IP_IS_V6(ip))
        snprintf(out, len, "[%s]:%u", ipaddr_ntoa_r(ip, a, sizeof(a)), port);
    else
        snprintf(out, len, "%s:%u", ipaddr_ntoa_r(ip, a, sizeof(a)), port);
}

static void add_endpoints(struct rte_tel_data *d, const ip_addr_t *local, uint16_t lport,
                          const ip_addr_t *peer, uint16_t pport)
{
    char s[IPADDR_STRLEN_MAX + 16];

    endpoint(local, lport, s, sizeof(s));
    rte_tel_data_add_dict_string(d, "local", s);
    endpoint(peer, pport, s, sizeof(s));
    rte_tel_data_add_dict_string(d, "peer", s);
}

static void summarize(const struct shunt_lat *h, struct shunt_sock_latency *out)
{
    out->n = h->n;
    out->p50 = shunt_lat_percentile(h, 50);
    out->p99 = shunt_lat_percentile(h, 99);
    out->p999 = shunt_lat_percentile(h, 99.9);
    out->max = h->max;
}

void shunt_sockstat_latency(const struct shunt_sock *s, struct shunt_sock_latency *rx,
                            struct shunt_sock_latency *tx)
{
    summarize(&s->ts.queued, rx);
    summarize(&s->ts.tx_wait, tx);
}

int shunt_sockstat_latency_of(int fd, struct shunt_sock_latency *rx, struct shunt_sock_latency *tx)
{
    const struct shunt_sock *s = shunt_fd_get(fd, SHUNT_FD_SOCKET);

    if (s == NULL) {
        errno = EBADF;
        return -1;
    }
    shunt_sockstat_latency(s, rx, tx);
    return 0;
}

/* The latency histograms' summaries, as rx_queued_* and tx_wait_* (ns). */
static void add_latency(struct rte_tel_data *d, const struct shunt_sock *s)
{
    struct shunt_sock_latency l[2];
    static const char *const names[2] = { "rx_queued", "tx_wait" };

    if (s == NULL)
        return;
    shunt_sockstat_latency(s, &l[0], &l[1]);
    for (int i = 0; i < 2; i++) {
        char k[32];
        const struct { const char *suffix; uint64_t v; } f[] = {
            { "n", l[i].n }, { "p50_ns", l[i].p50 }, { "p99_ns", l[i].p99 },
            { "p999_ns", l[i].p999 }, { "max_ns", l[i].max },
        };
        for (size_t j = 0; j < sizeof(f) / sizeof(f[0]); j++) {
            snprintf(k, sizeof(k), "%s_%s", names[i], f[j].suffix);
            rte_tel_data_add_dict_u64(d, k, f[j].v);
        }
    }
}

static unsigned segments(const struct tcp_seg *seg)
{
    unsigned n = 0;

    for (; seg != NULL; seg = seg->next)
        n++;
    return n;
}

/* Where the sending side stands, for a stall to explain itself: what is
 * acknowledged and sent (relative to each other), the segments queued,
 * the retransmission timer (ms since armed, -1 off) and its timeout, the
 * persist timer's backoff, and lwIP's flags. */
static void add_send_side(struct rte_tel_data *d, const struct tcp_pcb *pcb)
{
    rte_tel_data_add_dict_u64(d, "snd_una", pcb->lastack);
    rte_tel_data_add_dict_u64(d, "snd_in_flight", pcb->snd_nxt - pcb->lastack);
    rte_tel_data_add_dict_u64(d, "unacked", segments(pcb->unacked));
    rte_tel_data_add_dict_u64(d, "unsent", segments(pcb->unsent));
    rte_tel_data_add_dict_int(d, "rtime_ms", pcb->rtime < 0 ? -1 : pcb->rtime * TCP_SLOW_INTERVAL);
    rte_tel_data_add_dict_u64(d, "rto_ms", (uint64_t)pcb->rto * TCP_SLOW_INTERVAL);
    rte_tel_data_add_dict_u64(d, "persist_backoff", pcb->persist_backoff);
    rte_tel_data_add_dict_u64(d, "flags", pcb->flags);
}

static struct rte_tel_data *describe_tcp(const struct tcp_pcb *pcb)
{
    struct rte_tel_data *d = rte_tel_data_alloc();
    /* A connection not accepted yet carries its listener's socket. */
    const struct shunt_tcp_sock *t = pcb->callback_arg;
    const struct shunt_sock *s = t != NULL ? &t->sock : NULL;

    rte_tel_data_start_dict(d);
    rte_tel_data_add_dict_string(d, "proto", IP_IS_V6_VAL(pcb->local_ip) ? "tcp6" : "tcp");
    rte_tel_data_add_dict_string(d, "state", shunt_sockstat_state_name(pcb->state));
    rte_tel_data_add_dict_int(d, "fd", s != NULL ? s->fd : -1);
    if (pcb->state == LISTEN) {
        /* As ss: the accept queue, and the backlog. */
        add_endpoints(d, &pcb->local_ip, pcb->local_port, IP_ANY_TYPE, 0);
        rte_tel_data_add_dict_u64(d, "recv_q", t != NULL ? (uint64_t)t->accept_len : 0);
        rte_tel_data_add_dict_u64(d, "send_q", t != NULL ? (uint64_t)t->backlog : 0);
        return d;
    }
    add_endpoints(d, &pcb->local_ip, pcb->local_port, &pcb->remote_ip, pcb->remote_port);
    rte_tel_data_add_dict_u64(d, "recv_q", t != NULL ? t->rx_bytes : 0);
    rte_tel_data_add_dict_u64(d, "send_q", TCP_SND_BUF - pcb->snd_buf);
    uint32_t var;
    rte_tel_data_add_dict_u64(d, "rtt_us", shunt_recovery_rtt_us(pcb, &var));
    rte_tel_data_add_dict_u64(d, "cwnd", pcb->mss ? pcb->cwnd / pcb->mss : 0);
    rte_tel_data_add_dict_u64(d, "mss", pcb->mss);
    rte_tel_data_add_dict_u64(d, "retransmits", pcb->nrtx);
    rte_tel_data_add_dict_u64(d, "snd_wnd", pcb->snd_wnd);
    rte_tel_data_add_dict_u64(d, "rcv_wnd", pcb->rcv_wnd);
    add_send_side(d, pcb);
    add_latency(d, t != NULL && t->pcb == pcb ? s : NULL);
    return d;
}

static struct rte_tel_data *describe_udp(const struct udp_pcb *pcb)
{
    struct rte_tel_data *d = rte_tel_data_alloc();
    const struct shunt_udp_sock *u = pcb->recv_arg;

    rte_tel_data_start_dict(d);
    rte_tel_data_add_dict_string(d, "proto", IP_IS_V6_VAL(pcb->local_ip) ? "udp6" : "udp");
    rte_tel_data_add_dict_string(d, "state", u != NULL && u->connected ? "ESTAB" : "UNCONN");
    rte_tel_data_add_dict_int(d, "fd", u != NULL ? u->sock.fd : -1);
    add_endpoints(d, &pcb->local_ip, pcb->local_port, &pcb->remote_ip, pcb->remote_port);
    rte_tel_data_add_dict_u64(d, "recv_q", u != NULL ? u->rx_charge : 0);
    rte_tel_data_add_dict_u64(d, "send_q", 0);
    rte_tel_data_add_dict_u64(d, "datagrams", u != NULL ? u->rx_count : 0);
    add_latency(d, u != NULL ? &u->sock : NULL);
    return d;
}

/* Add the index-th socket as an entry named by its index (telemetry has
 * no array of dicts inside a dict). */
static void add(struct rte_tel_data *d, unsigned index, struct rte_tel_data *entry)
{
    char name[16];

    snprintf(name, sizeof(name), "%u", index);
    rte_tel_data_add_dict_container(d, name, entry, 0);
}

/*
 * Every pcb, in one order: listening, active, TIME-WAIT, then UDP; from the
 * from-th on, a page of them, with "total" and "next" (0: no more).
 */
int shunt_sockstat_describe(unsigned from, struct rte_tel_data *d)
{
    struct tcp_pcb *const *tcp_lists[] = {
        (struct tcp_pcb *const *)&tcp_listen_pcbs.pcbs, &tcp_active_pcbs, &tcp_tw_pcbs,
    };
    unsigned index = 0, shown = 0;

    rte_tel_data_start_dict(d);
    for (size_t l = 0; l < sizeof(tcp_lists) / sizeof(tcp_lists[0]); l++) {
        for (const struct tcp_pcb *pcb = *tcp_lists[l]; pcb != NULL; pcb = pcb->next, index++) {
            if (index >= from && shown < PAGE) {
                add(d, index, describe_tcp(pcb));
                shown++;
            }
        }
    }
    for (const struct udp_pcb *pcb = udp_pcbs; pcb != NULL; pcb = pcb->next, index++) {
        if (index >= from && shown < PAGE) {
            add(d, index, describe_udp(pcb));
            shown++;
        }
    }
    rte_tel_data_add_dict_u64(d, "total", index);
    rte_tel_data_add_dict_u64(d, "next", from + shown < index ? from + shown : 0);
    return 0;
}
