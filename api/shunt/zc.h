/*
 * <shunt/zc.h> - zero-copy receive and send, for programs that want them.
 *
 * The calls of <shunt/socket.h> copy: recv() out of the mbufs data arrived
 * in, send() into lwIP's send buffer.  These calls do not.
 *
 * Receive.  shunt_zc_recv() hands over what a socket has received as views,
 * (pointer, length) pairs on the buffers it arrived in, with a batch handle;
 * the program reads them in place and gives them back with
 * shunt_zc_release(batch).
 *   - TCP: up to max bytes from the front of the stream, across as many
 *     buffers as they lie in (at most SHUNT_ZC_IOV_MAX); a buffer read in
 *     part stays queued for the next call.  The window opens as batches are
 *     released, not as they are handed over: a program that holds views
 *     closes the window, and the peer waits, as it would for a slow reader.
 *     So what one connection pins is bounded by its window.
 *   - UDP: one datagram a call (its views, and its source in from), whole
 *     whatever max says.  A held datagram stays charged to SO_RCVBUF until
 *     released: a program that holds too many drops what arrives (counted
 *     socket_full), as a full socket does.
 *   - Batches may be released in any order.  The data stays valid until
 *     release, even after the socket is closed or the connection reset; a
 *     socket closed with batches held counts their bytes as read (so a TCP
 *     close is a FIN, not a reset).
 *   - At most SHUNT_ZC_MAX_HELD batches are held at once in a process: the
 *     next shunt_zc_recv() fails with ENOBUFS, the data stays queued, and
 *     the call works again once a batch is released.  When the mbuf pool
 *     runs low, TCP data moves out of its mbufs as it arrives (as for every
 *     socket: README, Reliability), so the views then point into lwIP's heap.
 *   - shunt_recv() and shunt_zc_recv() may be mixed on one socket: each
 *     takes from the front of what is queued, in the order they are called.
 *
 * Send.  shunt_zc_alloc(fd, len) gives a buffer of len bytes inside an
 * mbuf, with room before it for the headers; the program writes its
 * message there and shunt_zc_send() hands it over.
 *   - UDP: one datagram (len at most the MTU's payload: 1,472 bytes over
 *     IPv4, 1,452 over IPv6; else EMSGSIZE).  The datagram leaves in that
 *     mbuf itself, its headers written into the room before the data: the
 *     message is written once, by the program, straight into the frame.
 *   - TCP: one segment's worth at most: asked for more, the buffer is a
 *     full segment (its size says so), and the rest goes in the next one
 *     (ENOTCONN before the connection is up).  lwIP keeps the
 *     buffer, not a copy, until the peer acknowledges it, and a
 *     retransmission sends it again from there; the frame itself is still
 *     built by one copy of the data (the headers' mbuf and the data are
 *     not yet chained on the wire).  Do not touch a sent buffer.
 *   - On success the buffer is Shunt's: it is freed when sent (UDP) or
 *     acknowledged (TCP).  On failure it is still the program's, to send
 *     again (EAGAIN: no room in the send buffer yet) or give back with
 *     shunt_zc_free().  A socket closed with buffers not handed over frees
 *     them; their pointers are invalid after the close.
 *   - shunt_zc_alloc() fails with ENOBUFS when the mbuf pool runs low (so a
 *     program cannot starve the port of buffers to receive into); it works
 *     again once buffers come back.
 *
 * Errors are Linux's words: EBADF (not a descriptor), ENOTSOCK, EINVAL (a
 * NULL batch or buffer, len 0, len past the buffer), EMSGSIZE, ENOTCONN,
 * EPIPE, EAGAIN, ENOBUFS.
 *
 * The kernel path (shunt_init_kernel(), and descriptors that are the
 * kernel's): the same calls work by copying - shunt_zc_recv() reads into a
 * buffer it allocates, shunt_zc_alloc() allocates one, shunt_zc_send()
 * send()s it - so a program keeps one code path on both.
 *
 * Example: a zero-copy echo server's inner step (apps/shunt-zc-echo.c has
 * the whole program).
 *
 *     struct shunt_zc_rx rx;
 *     ssize_t n = shunt_zc_recv(fd, &rx, SIZE_MAX, 0);
 *     for (int i = 0; n > 0 && i < rx.iovcnt; i++) {
 *         const char *p = rx.iov[i].iov_base;
 *         for (size_t left = rx.iov[i].iov_len; left > 0;) {
 *             struct shunt_zc_buf *b = shunt_zc_alloc(fd, left);  // NULL: see errno
 *             memcpy(b->data, p, b->size);                       // or build a reply
 *             shunt_zc_send(fd, b, b->size, 0);
 *             p += b->size;
 *             left -= b->size;
 *         }
 *     }
 *     shunt_zc_release(rx.batch);
 */
#ifndef SHUNT_ZC_H
#define SHUNT_ZC_H

#include <stddef.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/uio.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The most views one batch holds, and batches a process holds at once. */
#define SHUNT_ZC_IOV_MAX 64
#define SHUNT_ZC_MAX_HELD 1024

struct shunt_zc_batch;          /* opaque */

/* What shunt_zc_recv() hands over. */
struct shunt_zc_rx {
    struct iovec iov[SHUNT_ZC_IOV_MAX]; /* the views, in stream order */
    int iovcnt;
    size_t len;                         /* bytes in all of them */
    struct sockaddr_storage from;       /* UDP: the datagram's source */
    socklen_t fromlen;                  /* 0 for TCP */
    struct shunt_zc_batch *batch;       /* for shunt_zc_release() */
};

/*
 * Up to max bytes (TCP) or the next datagram (UDP) as views, waiting as
 * recv() does (flags: MSG_DONTWAIT; a non-blocking socket does not wait).
 * The bytes handed over; 0 at the end of the stream (nothing to release
 * then); -1 with errno.
 */
ssize_t shunt_zc_recv(int fd, struct shunt_zc_rx *rx, size_t max, int flags);

/* Give a batch back (in any order); its views are invalid after. 0, or -1
 * with errno EINVAL for NULL. */
int shunt_zc_release(struct shunt_zc_batch *batch);

/* A buffer to send from. */
struct shunt_zc_buf {
    void *data;                 /* write the message here */
    size_t size;                /* its bytes: those asked for (TCP: at most a segment) */
};

/* A buffer of len bytes (TCP: up to len) for a message on fd, or NULL with
 * errno. */
struct shunt_zc_buf *shunt_zc_alloc(int fd, size_t len);

/*
 * Send the first len bytes of buf (len <= buf->size) on fd; to (UDP, NULL
 * when connected) as sendto() takes it.  flags: MSG_DONTWAIT, MSG_MORE
 * (TCP: more follows, do not push yet), MSG_NOSIGNAL.  len, or -1 with
 * errno (and buf is still the program's).
 */
ssize_t shunt_zc_send(int fd, struct shunt_zc_buf *buf, size_t len, int flags);
ssize_t shunt_zc_sendto(int fd, struct shunt_zc_buf *buf, size_t len, int flags,
                        const struct sockaddr *to, socklen_t tolen);

/* Give back a buffer that was not sent. */
void shunt_zc_free(struct shunt_zc_buf *buf);

#ifdef __cplusplus
}
#endif

#endif /* SHUNT_ZC_H */
