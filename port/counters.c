/*
 * counters.c - the names of drop causes and verdicts, as shunt-stat,
 * telemetry and the exit summary print them.
 */
#include "counters.h"

static const char *const drop_names[SHUNT_DROP_CAUSES] = {
    [SHUNT_DROP_RX_NOMBUF] = "rx_nombuf",
    [SHUNT_DROP_BAD_FRAME] = "bad_frame",
    [SHUNT_DROP_NOT_FOR_US] = "not_for_us",
    [SHUNT_DROP_BAD_CHECKSUM] = "bad_checksum",
    [SHUNT_DROP_TOO_BIG] = "too_big",
    [SHUNT_DROP_REASSEMBLY] = "reassembly",
    [SHUNT_DROP_SOURCE_FILTERED] = "source_filtered",
    [SHUNT_DROP_NO_SOCKET] = "no_socket",
    [SHUNT_DROP_SOCKET_FULL] = "socket_full",
    [SHUNT_DROP_BACKLOG_FULL] = "backlog_full",
    [SHUNT_DROP_TCP_INVALID] = "tcp_invalid",
    [SHUNT_DROP_TCP_THROTTLED] = "tcp_throttled",
    [SHUNT_DROP_ARP_QUEUE] = "arp_queue",
    [SHUNT_DROP_POOL_EMPTY] = "pool_empty",
    [SHUNT_DROP_LWIP] = "lwip",
    [SHUNT_DROP_FAULT] = "fault",
    [SHUNT_DROP_TX_NOMBUF] = "tx_nombuf",
    [SHUNT_DROP_TX_RING_FULL] = "tx_ring_full",
    [SHUNT_DROP_TX_FAULT] = "tx_fault",
    [SHUNT_DROP_KERNEL_FULL] = "kernel_full",
    [SHUNT_DROP_KERNEL_DOWN] = "kernel_down",
    [SHUNT_DROP_KERNEL_NOMBUF] = "kernel_nombuf",
};

static const char *const verdict_names[SHUNT_VERDICTS] = {
    [SHUNT_VERDICT_ARP] = "arp",
    [SHUNT_VERDICT_ARP_OTHER] = "arp_other",
    [SHUNT_VERDICT_ICMP] = "icmp",
    [SHUNT_VERDICT_UNREACHABLE] = "unreachable",
    [SHUNT_VERDICT_TCP] = "tcp",
    [SHUNT_VERDICT_TCP_LISTEN] = "tcp_listen",
    [SHUNT_VERDICT_UDP] = "udp",
    [SHUNT_VERDICT_FRAGMENT] = "fragment",
    [SHUNT_VERDICT_NO_SOCKET] = "no_socket",
    [SHUNT_VERDICT_NOT_OURS] = "not_ours",
    [SHUNT_VERDICT_MALFORMED] = "malformed",
};

const char *shunt_drop_name(enum shunt_drop_cause cause)
{
    return (unsigned)cause < SHUNT_DROP_CAUSES ? drop_names[cause] : "unknown";
}

const char *shunt_verdict_name(enum shunt_verdict verdict)
{
    return (unsigned)verdict < SHUNT_VERDICTS ? verdict_names[verdict] : "unknown";
}

bool shunt_drop_is_tx(enum shunt_drop_cause cause)
{
    return cause == SHUNT_DROP_ARP_QUEUE || cause == SHUNT_DROP_TX_NOMBUF ||
           cause == SHUNT_DROP_TX_RING_FULL || cause == SHUNT_DROP_TX_FAULT;
}

bool shunt_drop_is_rx(enum shunt_drop_cause cause)
{
    return !shunt_drop_is_tx(cause) && cause != SHUNT_DROP_POOL_EMPTY;
}
