/*
 * linux-tcp-info.h - what test-socket.c reads of Linux's own struct tcp_info
 * (<linux/tcp.h>), which is longer than glibc's in <netinet/tcp.h>; the two
 * headers cannot meet in one file, so tests/unit/linux-tcp-info.c reads it.
 */
#ifndef SHUNT_TEST_LINUX_TCP_INFO_H
#define SHUNT_TEST_LINUX_TCP_INFO_H

#include <stddef.h>
#include <stdint.h>

/* sizeof(struct tcp_info) in <linux/tcp.h>. */
size_t linux_tcp_info_size(void);

/* tcpi_snd_wnd, the struct's last field, of a TCP_INFO answer of that size. */
uint32_t linux_tcp_info_snd_wnd(const void *info);

#endif /* SHUNT_TEST_LINUX_TCP_INFO_H */
