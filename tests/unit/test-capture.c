/*
 * test-capture.c - the capture writes what tcpdump would: the filter judges
 * the whole frame, the file keeps its snap length of it, chained mbufs come
 * out whole, files rotate at their size, and bad filters or paths say why.
 * Files are read back with libpcap.
 */
#include <check.h>
#include <netinet/in.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rte_eal.h>
#include <rte_ip.h>
#include <rte_mbuf.h>
#include <rte_tcp.h>

#include "capture.h"
#include "frames.h"
#include "suite.h"

static struct rte_mempool *pool;
static char dir[] = "/tmp/test-capture.XXXXXX";

static const struct rte_ether_addr mac_a = { { 0x02, 0, 0, 0, 0, 0x01 } };
static const struct rte_ether_addr mac_b = { { 0x02, 0, 0, 0, 0, 0x02 } };

/* In each test's own process (see tests/pkt/ring.h). */
static void setup(void)
{
    char *argv[] = { "test-capture", "-l", "0", "--no-huge", "-m", "64", "--no-shconf",
                     "--no-pci", "--no-telemetry", "--log-level=lib.eal:error", NULL };

    ck_assert_int_ge(rte_eal_init(10, argv), 0);
    pool = rte_pktmbuf_pool_create("test", 63, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE, SOCKET_ID_ANY);
    ck_assert_ptr_nonnull(pool);
    ck_assert_ptr_nonnull(mkdtemp(dir));
}

static void teardown(void)
{
    char cmd[64];

    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    ck_assert_int_eq(system(cmd), 0);
}

/* A TCP segment to port, with len bytes of payload, as one frame. */
static size_t tcp_frame(uint8_t *b, uint16_t port, size_t len)
{
    uint8_t seg[FRAME_MAX] = { 0 };
    struct rte_tcp_hdr *th = (struct rte_tcp_hdr *)seg;

    th->src_port = rte_cpu_to_be_16(40000);
    th->dst_port = rte_cpu_to_be_16(port);
    th->data_off = 5 << 4;
    for (size_t i = 0; i < len; i++)
        seg[sizeof(*th) + i] = (uint8_t)i;
    return frame_ipv4(b, &mac_b, &mac_a, RTE_IPV4(10, 0, 0, 1), RTE_IPV4(10, 0, 0, 2),
                      IPPROTO_TCP, 1, 0, seg, sizeof(*th) + len);
}

/* The frame as an mbuf chain of segments of at most seg bytes. */
static struct rte_mbuf *mbuf_of(const uint8_t *frame, size_t len, size_t seg)
{
    struct rte_mbuf *head = NULL;

    for (size_t off = 0; off < len; off += seg) {
        struct rte_mbuf *m = rte_pktmbuf_alloc(pool);
        size_t n = RTE_MIN(seg, len - off);
        ck_assert_ptr_nonnull(m);
        memcpy(rte_pktmbuf_append(m, (uint16_t)n), frame + off, n);
        if (head == NULL)
            head = m;
        else
            ck_assert_int_eq(rte_pktmbuf_chain(head, m), 0);
    }
    return head;
}

static struct shunt_capture *open_capture(const char *name, const char *filter,
                                          uint32_t snaplen, uint64_t rotate_bytes)
{
    struct shunt_capture_conf conf = { .snaplen = snaplen, .rotate_bytes = rotate_bytes };
    char err[256];

    snprintf(conf.path, sizeof(conf.path), "%s/%s", dir, name);
    snprintf(conf.filter, sizeof(conf.filter), "%s", filter);
    struct shunt_capture *c = shunt_capture_open(&conf, err, sizeof(err));
    ck_assert_msg(c != NULL, "%s", err);
    return c;
}

static void offer(struct shunt_capture *c, const uint8_t *frame, size_t len, size_t seg)
{
    struct rte_mbuf *m = mbuf_of(frame, len, seg);

    shunt_capture_frames(c, &m, 1);
    rte_pktmbuf_free(m);
}

/* The records of a capture file, in order: their lengths and bytes. */
struct record {
    uint32_t caplen, len;
    uint8_t data[FRAME_MAX];
};

static int read_file(const char *name, struct record *r, int max)
{
    char path[256], err[PCAP_ERRBUF_SIZE];
    struct pcap_pkthdr *h;
    const u_char *data;
    int n = 0;

    snprintf(path, sizeof(path), "%s/%s", dir, name);
    pcap_t *p = pcap_open_offline(path, err);
    ck_assert_msg(p != NULL, "%s", err);
    ck_assert_int_eq(pcap_datalink(p), DLT_EN10MB);
    while (pcap_next_ex(p, &h, &data) == 1) {
        ck_assert_int_lt(n, max);
        r[n].caplen = h->caplen;
        r[n].len = h->len;
        memcpy(r[n].data, data, h->caplen);
        n++;
    }
    pcap_close(p);
    return n;
}

static struct record got[16];

START_TEST(filter_judges_the_whole_frame)
{
    uint8_t seven[FRAME_MAX], eight[FRAME_MAX];
    size_t n7 = tcp_frame(seven, 7, 100), n8 = tcp_frame(eight, 8, 100);

    /* 20 bytes keep not even the IP header: the port must still decide. */
    struct shunt_capture *c = open_capture("f.pcap", "tcp port 7", 20, 0);
    offer(c, eight, n8, 2048);
    offer(c, seven, n7, 2048);
    offer(c, eight, n8, 2048);
    struct shunt_capture_stats st;
    shunt_capture_stats(c, &st);
    shunt_capture_close(c);

    ck_assert_uint_eq(st.seen, 3);
    ck_assert_uint_eq(st.written, 1);
    ck_assert_int_eq(read_file("f.pcap", got, 16), 1);
    ck_assert_uint_eq(got[0].caplen, 20);
    ck_assert_uint_eq(got[0].len, n7);
    ck_assert_mem_eq(got[0].data, seven, 20);
}
END_TEST

START_TEST(chained_frames_written_whole)
{
    uint8_t frame[FRAME_MAX];
    size_t n = tcp_frame(frame, 7, 3000);

    struct shunt_capture *c = open_capture("c.pcap", "", 0, 0);
    offer(c, frame, n, 1000);
    shunt_capture_close(c);

    ck_assert_int_eq(read_file("c.pcap", got, 16), 1);
    ck_assert_uint_eq(got[0].caplen, n);
    ck_assert_uint_eq(got[0].len, n);
    ck_assert_mem_eq(got[0].data, frame, n);
}
END_TEST

START_TEST(files_rotate_at_their_size)
{
    uint8_t frame[FRAME_MAX];
    size_t n = tcp_frame(frame, 7, 200);    /* 254 bytes, 270 with its record header */

    /* Each file takes frames until it holds 600 bytes: three frames. */
    struct shunt_capture *c = open_capture("r.pcap", "", 0, 600);
    for (int i = 0; i < 7; i++) {
        frame[60] = (uint8_t)i;             /* a payload byte says which frame */
        offer(c, frame, n, 2048);
    }
    struct shunt_capture_stats st;
    shunt_capture_stats(c, &st);
    shunt_capture_close(c);

    ck_assert_uint_eq(st.files, 3);
    const char *files[] = { "r.pcap", "r.pcap.1", "r.pcap.2" };
    const int frames[] = { 3, 3, 1 };
    int next = 0;
    for (int f = 0; f < 3; f++) {
        ck_assert_int_eq(read_file(files[f], got, 16), frames[f]);
        for (int i = 0; i < frames[f]; i++)
            ck_assert_uint_eq(got[i].data[60], next++);
    }
    char path[256];
    snprintf(path, sizeof(path), "%s/r.pcap.3", dir);
    ck_assert_int_ne(access(path, F_OK), 0);
}
END_TEST

START_TEST(bad_filter_and_path_say_why)
{
    struct shunt_capture_conf conf = { 0 };
    char err[256];

    snprintf(conf.path, sizeof(conf.path), "%s/x.pcap", dir);
    snprintf(conf.filter, sizeof(conf.filter), "tcp port");
    ck_assert_ptr_null(shunt_capture_open(&conf, err, sizeof(err)));
    ck_assert_msg(strncmp(err, "capture filter 'tcp port': ", 27) == 0, "%s", err);
    ck_assert_int_ne(access(conf.path, F_OK), 0);

    snprintf(conf.path, sizeof(conf.path), "%s/no/such/dir/x.pcap", dir);
    conf.filter[0] = '\0';
    ck_assert_ptr_null(shunt_capture_open(&conf, err, sizeof(err)));
    ck_assert_msg(strstr(err, "cannot write capture file") != NULL, "%s", err);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("capture");
    TCase *tc = tcase_create("capture");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, filter_judges_the_whole_frame);
    tcase_add_test(tc, chained_frames_written_whole);
    tcase_add_test(tc, files_rotate_at_their_size);
    tcase_add_test(tc, bad_filter_and_path_say_why);
    suite_add_tcase(s, tc);

    return run_suite(s);
}
