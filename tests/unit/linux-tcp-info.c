/*
 * linux-tcp-info.c - Linux's struct tcp_info for test-socket.c (see
 * linux-tcp-info.h).
 */
#include <linux/tcp.h>
#include <string.h>

#include "linux-tcp-info.h"

size_t linux_tcp_info_size(void)
{
    return sizeof(struct tcp_info);
}

uint32_t linux_tcp_info_snd_wnd(const void *info)
{
    struct tcp_info ti;

    memcpy(&ti, info, sizeof(ti));
    return ti.tcpi_snd_wnd;
}
