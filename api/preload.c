/*
 * preload.c - libshunt-preload.so: a program written for the kernel's
 * sockets runs on Shunt unchanged (shunt-run, or LD_PRELOAD by hand).
 *
 * The library defines the C library's socket and event calls under their
 * own names, so the program's calls - through the PLT or looked up with
 * dlsym(RTLD_DEFAULT) - come here first.  Each call goes one of three ways:
 *
 *   - a descriptor Shunt does not own, or a call Shunt makes itself
 *     (share.h's guard): straight to the kernel, for one table lookup;
 *   - a socket not decided yet (AF_INET/AF_INET6, TCP or UDP, before its
 *     bind or connect): the kernel socket it is, while the options set on
 *     it are noted;
 *   - a Shunt descriptor: the shunt_* call, under the stack's lock.
 *
 * A socket is decided when it is given an address (stack/policy.h): to
 * Shunt, its kernel socket stays under the same number (api/fd.h) and the
 * options noted are set again on the Shunt socket; to the kernel, it simply
 * stays what it was.  An epoll instance is the kernel's until a Shunt socket
 * is added to it, and then becomes Shunt's around the kernel epoll, which
 * keeps the kernel descriptors it holds.
 *
 * Built as libshunt-wrap.so, the same calls are named __wrap_socket and so
 * on, for programs relinked with -Wl,--wrap (pkg-config shunt-wrap).
 *
 * The stack starts on the first socket the policy gives it.  SHUNT_CONFIG
 * names the config file (shunt-run -c); SHUNT_KERNEL=1 (shunt-run --kernel)
 * keeps every socket on the kernel with the interposer in place, the
 * baseline with the same overheads; SHUNT_LOG=debug prints each decision.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/select.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <unistd.h>

#include "config.h"
#include "epoll.h"
#include "fd.h"
#include "kernel.h"
#include "policy.h"
#include "share.h"
#include "shunt/shunt.h"
#include "shunt/socket.h"
#include "signals.h"
#include "sock.h"
#include "stack.h"
#include "telemetry.h"

#define K (shunt_kernel())
#define EXPORT __attribute__((visibility("default")))

/*
 * The same calls serve the relink: built with SHUNT_WRAP (libshunt-wrap.so)
 * each is named __wrap_X, which `-Wl,--wrap=X` sends a program's X to
 * (pkg-config --libs shunt-wrap).
 */
#ifdef SHUNT_WRAP
#define NAME(f) __wrap_##f
#define NAME_STR(f) "__wrap_" #f
#else
#define NAME(f) f
#define NAME_STR(f) #f
#endif

/* ---- the process's choices ------------------------------------------------- */

static struct shunt_config config;
static struct shunt_policy policy;
static bool accelerating;       /* a config, no SHUNT_KERNEL: Shunt may take sockets */
static bool verbose;            /* SHUNT_LOG=debug: say what each socket does */
static enum { DOWN, UP, FAILED } stack_state;
static pthread_mutex_t start_lock = PTHREAD_MUTEX_INITIALIZER;

static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void say(const char *fmt, ...)
{
    char line[512];
    va_list ap;

    va_start(ap, fmt);
    int n = vsnprintf(line, sizeof(line) - 1, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    if (n > (int)sizeof(line) - 2)
        n = (int)sizeof(line) - 2;
    line[n++] = '\n';
    K->write(STDERR_FILENO, line, (size_t)n);
}

/* Read the config before main(): a bad one stops the program at once, with
 * one line, rather than at its first socket. */
__attribute__((constructor)) static void preload_init(void)
{
    const char *path = getenv(SHUNT_CONFIG_ENV), *kernel = getenv("SHUNT_KERNEL");
    const char *log = getenv("SHUNT_LOG");
    char err[512];

    verbose = log != NULL && strcmp(log, "debug") == 0;
    if (kernel != NULL && strcmp(kernel, "1") == 0) {
        if (verbose)
            say("shunt: %s: SHUNT_KERNEL=1: every socket on the kernel", program_invocation_short_name);
        return;
    }
    if (path == NULL || *path == '\0') {
        say("shunt: %s: no SHUNT_CONFIG (shunt-run -c FILE): every socket on the kernel",
            program_invocation_short_name);
        return;
    }
    if (shunt_config_load(&config, path, err, sizeof(err)) != 0 ||
        shunt_policy_init(&policy, &config, program_invocation_short_name, err, sizeof(err)) != 0) {
        say("shunt: %s", err);
        _exit(1);
    }
    accelerating = true;
}

__attribute__((destructor)) static void preload_exit(void)
{
    if (stack_state == UP && shunt_share_stop()) {
        shunt_share_guard(1);
        shunt_exit();
        shunt_share_guard(-1);
    }
}

/* ---- descriptors: what the interposer keeps for each -------------------------- */

/* A pointer per descriptor number, in a table that grows as numbers do.
 * Readers take no lock: the old table is never freed, a thread may be
 * reading it. */
struct by_fd {
    void **slot;
    int size;
    pthread_mutex_t lock;
};

static void *by_fd_get(const struct by_fd *t, int fd)
{
    return fd >= 0 && fd < t->size ? t->slot[fd] : NULL;
}

/* Set fd's pointer; false when the table cannot grow to it. */
static bool by_fd_put(struct by_fd *t, int fd, void *p)
{
    bool ok = true;

    pthread_mutex_lock(&t->lock);
    if (fd >= t->size) {
        int size = t->size ? t->size : 1024;
        while (size <= fd)
            size *= 2;
        void **grown = calloc((size_t)size, sizeof(*grown));
        if (grown != NULL) {
            if (t->size)
                memcpy(grown, t->slot, (size_t)t->size * sizeof(*grown));
            t->slot = grown;
            t->size = size;
        }
    }
    if (fd < t->size)
        t->slot[fd] = p;
    else
        ok = false;
    pthread_mutex_unlock(&t->lock);
    return ok;
}

/*
 * Why each socket the policy left on the kernel is there (policy.h's few
 * words, static strings), by descriptor, until it closes: telemetry's
 * /shunt/kernel_sockets, which shunt-doctor shows.
 */
static struct by_fd kernel_why = { .lock = PTHREAD_MUTEX_INITIALIZER };

static void kernel_why_note(int fd, const char *why)
{
    if (by_fd_get(&kernel_why, fd) != why)
        by_fd_put(&kernel_why, fd, (void *)why);
}

/* Answered on the instance's thread: {"FD": "why", ...}. */
static int kernel_why_describe(const char *params, struct rte_tel_data *d)
{
    char fd[16];

    (void)params;
    rte_tel_data_start_dict(d);
    for (int i = 0, n = 0; i < kernel_why.size && n < RTE_TEL_MAX_DICT_ENTRIES; i++) {
        if (kernel_why.slot[i] == NULL)
            continue;
        snprintf(fd, sizeof(fd), "%d", i);
        rte_tel_data_add_dict_string(d, fd, kernel_why.slot[i]);
        n++;
    }
    return 0;
}

/*
 * DPDK opens some forty descriptors while the stack starts (hugepage files,
 * the AF_XDP socket, eventfds).  Taken from the bottom, they would push the
 * program's next sockets to numbers a kernel program never sees this early,
 * past the small tables programs size by their connection count (wrk's
 * event loop holds 10 + 3 per connection).  So the numbers above the
 * program's own are filled with placeholders while the stack starts -
 * DPDK's land above them - and given back afterwards.
 */
static int reserve_low_fds(int *fds, int max)
{
    struct rlimit rl;
    int n = 0;

    if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
        return 0;
    if ((rlim_t)max > rl.rlim_cur / 2)     /* half the limit stays DPDK's */
        max = (int)(rl.rlim_cur / 2);
    while (n < max && (fds[n] = K->fcntl(STDERR_FILENO, F_DUPFD_CLOEXEC, 0)) >= 0)
        n++;
    return n;
}

#define RESERVED_FDS 512

static int start_stack(void)
{
    int fds[RESERVED_FDS];
    int n = reserve_low_fds(fds, RESERVED_FDS);
    int rc = shunt_init(config.source);

    for (int i = 0; i < n; i++)
        K->close(fds[i]);
    return rc;
}

/* Start the stack for the first socket it takes; false if it cannot. */
static bool stack_started(void)
{
    if (stack_state != DOWN)
        return stack_state == UP;
    pthread_mutex_lock(&start_lock);
    if (stack_state == DOWN) {
        shunt_share_guard(1);           /* DPDK's own calls are the kernel's */
        int rc = start_stack();
        shunt_share_guard(-1);
        if (rc != 0) {
            say("shunt: %s: the stack did not start (above): every socket stays on the kernel",
                program_invocation_short_name);
            stack_state = FAILED;
        } else {
            shunt_share_start(config.progress_us);
            shunt_telemetry_set_kernel_sockets(&shunt_instance()->telemetry,
                                               kernel_why_describe);
            stack_state = UP;
        }
    }
    pthread_mutex_unlock(&start_lock);
    return stack_state == UP;
}

/* ---- sockets and epolls not decided yet -------------------------------------- */

struct noted_opt {
    int level, name;
    socklen_t len;
    unsigned char val[];
};

struct undecided {
    bool epoll;                 /* an epoll instance (the rest: a socket) */
    int domain, type, proto;    /* type without SOCK_NONBLOCK/CLOEXEC */
    int nopts;
    struct noted_opt *opts[32];
    int nkernel;                /* epoll: kernel descriptors in it */
};

static struct by_fd undecided = { .lock = PTHREAD_MUTEX_INITIALIZER };

static struct undecided *undecided_get(int fd)
{
    return by_fd_get(&undecided, fd);
}

static void undecided_put(int fd, struct undecided *u)
{
    if (!by_fd_put(&undecided, fd, u))
        free(u);                        /* it stays the kernel's */
}

/* Forget fd's record (it closed, or was decided); the record, or NULL. */
static struct undecided *undecided_take(int fd)
{
    struct undecided *u = undecided_get(fd);

    if (u != NULL)
        undecided.slot[fd] = NULL;
    return u;
}

static void undecided_free(struct undecided *u)
{
    if (u == NULL)
        return;
    for (int i = 0; i < u->nopts; i++)
        free(u->opts[i]);
    free(u);
}

static void note_option(struct undecided *u, int level, int name, const void *val, socklen_t len)
{
    if (u->nopts == (int)(sizeof(u->opts) / sizeof(u->opts[0])) || len > 256)
        return;
    struct noted_opt *o = malloc(sizeof(*o) + len);
    if (o == NULL)
        return;
    o->level = level;
    o->name = name;
    o->len = len;
    memcpy(o->val, val, len);
    u->opts[u->nopts++] = o;
}

static const char *kind_name(const struct undecided *u)
{
    return u->type == SOCK_STREAM ? "tcp" : "udp";
}

/*
 * Decide the undecided socket fd, given address a by op: true when it is
 * Shunt's now.  On the way, its options are set again on the Shunt socket
 * and a wildcard TCP bind listens on both sides.
 */
static bool decide(int fd, enum shunt_policy_op op, const struct sockaddr *a, socklen_t len)
{
    struct undecided *u = undecided_get(fd);
    const char *why;

    if (u == NULL || u->epoll)
        return false;
    undecided_take(fd);
    bool to_shunt = shunt_policy_accelerates(&policy, u->proto, op, a, len, &why) &&
                    stack_started();
    if (stack_state == FAILED)
        why = "the stack is down";
    if (verbose)
        say("shunt: %s: fd %d (%s): %s, %s", program_invocation_short_name, fd, kind_name(u),
            to_shunt ? "Shunt" : "kernel", why);
    if (to_shunt && shunt_share_enter()) {
        int fl = K->fcntl(fd, F_GETFL), fdfl = K->fcntl(fd, F_GETFD);
        int type = u->type | (fl & O_NONBLOCK ? SOCK_NONBLOCK : 0) |
                   (fdfl & FD_CLOEXEC ? SOCK_CLOEXEC : 0);
        if (shunt_socket_adopt(fd, u->domain, type) < 0) {
            say("shunt: fd %d stays on the kernel: no Shunt socket (%s)", fd, strerror(errno));
            to_shunt = false;
            why = "no Shunt socket to be had";
        }
        for (int i = 0; to_shunt && i < u->nopts; i++) {
            const struct noted_opt *o = u->opts[i];
            if (shunt_setsockopt(fd, o->level, o->name, o->val, o->len) != 0 && verbose)
                say("shunt: fd %d: option %d/%d not taken over: %s", fd, o->level, o->name,
                    strerror(errno));
        }
        if (to_shunt && op == SHUNT_POLICY_BIND && u->type == SOCK_STREAM &&
            shunt_policy_is_wildcard(a, len))
            shunt_socket_listen_both(fd);
        shunt_share_leave();
    } else {
        to_shunt = false;
    }
    if (!to_shunt)
        kernel_why_note(fd, why);
    undecided_free(u);
    return to_shunt;
}

/* The wildcard of the socket's family, for a listen() or sendto() that binds
 * it implicitly. */
static socklen_t wildcard_of(int domain, struct sockaddr_storage *ss)
{
    memset(ss, 0, sizeof(*ss));
    ss->ss_family = (sa_family_t)domain;
    return domain == AF_INET ? sizeof(struct sockaddr_in) : sizeof(struct sockaddr_in6);
}

/* ---- the way a call goes -------------------------------------------------------- */

/* The kernel's: not Shunt's descriptor, or Shunt's own call. */
static inline bool kernels(int fd)
{
    return shunt_fd_kind(fd) == SHUNT_FD_NONE || shunt_share_inside();
}

/* Run the shunt_* call under the stack's lock; EBADF if another process
 * drives the stack. */
#define ON_SHUNT(type, call)                    \
    do {                                        \
        if (!shunt_share_enter())               \
            return (type)-1;                    \
        type r_ = (call);                       \
        int e_ = errno;                         \
        shunt_share_leave();                    \
        errno = e_;                             \
        return r_;                              \
    } while (0)

/* ---- creating, naming, connecting ------------------------------------------------ */

EXPORT int NAME(socket)(int domain, int type, int protocol)
{
    int fd = K->socket(domain, type, protocol);
    int kind = type & ~(SOCK_NONBLOCK | SOCK_CLOEXEC);

    if (fd < 0 || !accelerating || shunt_share_inside() ||
        (domain != AF_INET && domain != AF_INET6) || (kind != SOCK_STREAM && kind != SOCK_DGRAM))
        return fd;
    struct undecided *u = calloc(1, sizeof(*u));
    if (u == NULL)
        return fd;
    u->domain = domain;
    u->type = kind;
    u->proto = kind == SOCK_STREAM ? IPPROTO_TCP : IPPROTO_UDP;
    undecided_put(fd, u);
    kernel_why_note(fd, NULL);          /* a number closed behind our back */
    return fd;
}

EXPORT int NAME(bind)(int fd, const struct sockaddr *addr, socklen_t len)
{
    if (undecided_get(fd) != NULL && !shunt_share_inside())
        decide(fd, SHUNT_POLICY_BIND, addr, len);
    if (kernels(fd))
        return K->bind(fd, addr, len);
    ON_SHUNT(int, shunt_bind(fd, addr, len));
}

EXPORT int NAME(listen)(int fd, int backlog)
{
    struct undecided *u = undecided_get(fd);

    if (u != NULL && !u->epoll && !shunt_share_inside()) {
        struct sockaddr_storage ss;
        decide(fd, SHUNT_POLICY_BIND, (struct sockaddr *)&ss, wildcard_of(u->domain, &ss));
    }
    if (kernels(fd))
        return K->listen(fd, backlog);
    ON_SHUNT(int, shunt_listen(fd, backlog));
}

EXPORT int NAME(connect)(int fd, const struct sockaddr *addr, socklen_t len)
{
    if (undecided_get(fd) != NULL && !shunt_share_inside())
        decide(fd, SHUNT_POLICY_CONNECT, addr, len);
    if (kernels(fd))
        return K->connect(fd, addr, len);
    ON_SHUNT(int, shunt_connect(fd, addr, len));
}

EXPORT int NAME(accept4)(int fd, struct sockaddr *addr, socklen_t *len, int flags)
{
    if (kernels(fd))
        return K->accept4(fd, addr, len, flags);
    ON_SHUNT(int, shunt_accept4(fd, addr, len, flags));
}

EXPORT int NAME(accept)(int fd, struct sockaddr *addr, socklen_t *len)
{
    return NAME(accept4)(fd, addr, len, 0);
}

EXPORT int NAME(shutdown)(int fd, int how)
{
    if (kernels(fd))
        return K->shutdown(fd, how);
    ON_SHUNT(int, shunt_shutdown(fd, how));
}

EXPORT int NAME(getsockname)(int fd, struct sockaddr *addr, socklen_t *len)
{
    if (kernels(fd))
        return K->getsockname(fd, addr, len);
    ON_SHUNT(int, shunt_getsockname(fd, addr, len));
}

EXPORT int NAME(getpeername)(int fd, struct sockaddr *addr, socklen_t *len)
{
    if (kernels(fd))
        return K->getpeername(fd, addr, len);
    ON_SHUNT(int, shunt_getpeername(fd, addr, len));
}

EXPORT int NAME(setsockopt)(int fd, int level, int name, const void *val, socklen_t len)
{
    if (kernels(fd)) {
        int rc = K->setsockopt(fd, level, name, val, len);
        struct undecided *u = undecided_get(fd);
        if (rc == 0 && u != NULL && !u->epoll)
            note_option(u, level, name, val, len);
        return rc;
    }
    ON_SHUNT(int, shunt_setsockopt(fd, level, name, val, len));
}

EXPORT int NAME(getsockopt)(int fd, int level, int name, void *val, socklen_t *len)
{
    if (kernels(fd))
        return K->getsockopt(fd, level, name, val, len);
    ON_SHUNT(int, shunt_getsockopt(fd, level, name, val, len));
}

/* ---- closing and duplicating ------------------------------------------------------ */

EXPORT int NAME(close)(int fd)
{
    undecided_free(undecided_take(fd));
    kernel_why_note(fd, NULL);
    if (kernels(fd))
        return K->close(fd);
    /* A process that does not drive the stack (a forked child) closes its
     * copy of the descriptor only: the connection is the owner's. */
    if (!shunt_share_owner()) {
        shunt_fd_release(fd);
        return 0;
    }
    ON_SHUNT(int, shunt_close(fd));
}

/* newfd names oldfd's object too, as dup3(2) makes it; newfd's own socket,
 * if it was Shunt's, is closed first, as the kernel closes it silently. */
static int dup_onto(int oldfd, int newfd, int flags)
{
    if (kernels(oldfd) && kernels(newfd))
        return K->dup3(oldfd, newfd, flags);
    if (oldfd == newfd) {
        errno = EINVAL;
        return -1;
    }
    if (!kernels(newfd))
        NAME(close)(newfd);
    if (!shunt_share_enter())
        return -1;
    int fd = K->dup3(oldfd, newfd, flags);
    if (fd >= 0 && !kernels(oldfd) && shunt_fd_dup(oldfd, fd) != 0) {
        K->close(fd);
        errno = ENOMEM;
        fd = -1;
    }
    shunt_share_leave();
    return fd;
}

EXPORT int NAME(dup3)(int oldfd, int newfd, int flags)
{
    return dup_onto(oldfd, newfd, flags);
}

EXPORT int NAME(dup2)(int oldfd, int newfd)
{
    if (oldfd == newfd)                 /* dup2 checks oldfd and does nothing */
        return K->fcntl(oldfd, F_GETFD) < 0 ? -1 : newfd;
    return dup_onto(oldfd, newfd, 0);
}

/* dup() and fcntl's F_DUPFD: the lowest free number from min. */
static int dup_from(int oldfd, int min, bool cloexec)
{
    int fd = K->fcntl(oldfd, cloexec ? F_DUPFD_CLOEXEC : F_DUPFD, min);

    if (fd >= 0 && !kernels(oldfd)) {
        if (!shunt_share_enter()) {
            K->close(fd);
            return -1;
        }
        int rc = shunt_fd_dup(oldfd, fd);
        shunt_share_leave();
        if (rc != 0) {
            K->close(fd);
            errno = ENOMEM;
            return -1;
        }
    }
    return fd;
}

EXPORT int NAME(dup)(int oldfd)
{
    return dup_from(oldfd, 0, false);
}

EXPORT int NAME(close_range)(unsigned first, unsigned last, int flags)
{
    /* Shunt's own in the range close as close() would close them. */
    unsigned limit = (unsigned)(shunt_fd_limit() > undecided.size ? shunt_fd_limit() : undecided.size);
    if (!(flags & CLOSE_RANGE_CLOEXEC))
        for (unsigned fd = first; fd <= last && fd < limit; fd++)
            if (!kernels((int)fd) || undecided_get((int)fd) != NULL)
                NAME(close)((int)fd);
    return K->close_range(first, last, flags);
}

/* ---- data -------------------------------------------------------------------------- */

EXPORT ssize_t NAME(read)(int fd, void *buf, size_t len)
{
    if (kernels(fd))
        return K->read(fd, buf, len);
    ON_SHUNT(ssize_t, shunt_read(fd, buf, len));
}

EXPORT ssize_t NAME(write)(int fd, const void *buf, size_t len)
{
    if (kernels(fd))
        return K->write(fd, buf, len);
    ON_SHUNT(ssize_t, shunt_write(fd, buf, len));
}

EXPORT ssize_t NAME(readv)(int fd, const struct iovec *iov, int n)
{
    if (kernels(fd))
        return K->readv(fd, iov, n);
    ON_SHUNT(ssize_t, shunt_readv(fd, iov, n));
}

EXPORT ssize_t NAME(writev)(int fd, const struct iovec *iov, int n)
{
    if (kernels(fd))
        return K->writev(fd, iov, n);
    ON_SHUNT(ssize_t, shunt_writev(fd, iov, n));
}

EXPORT ssize_t NAME(recv)(int fd, void *buf, size_t len, int flags)
{
    if (kernels(fd))
        return K->recvfrom(fd, buf, len, flags, NULL, NULL);
    ON_SHUNT(ssize_t, shunt_recv(fd, buf, len, flags));
}

EXPORT ssize_t NAME(send)(int fd, const void *buf, size_t len, int flags)
{
    if (kernels(fd))
        return K->sendto(fd, buf, len, flags, NULL, 0);
    ON_SHUNT(ssize_t, shunt_send(fd, buf, len, flags));
}

EXPORT ssize_t NAME(recvfrom)(int fd, void *buf, size_t len, int flags, struct sockaddr *from,
                        socklen_t *fromlen)
{
    if (kernels(fd))
        return K->recvfrom(fd, buf, len, flags, from, fromlen);
    ON_SHUNT(ssize_t, shunt_recvfrom(fd, buf, len, flags, from, fromlen));
}

/* A datagram sent from an undecided socket decides it by where it goes. */
static void decide_by_peer(int fd, const struct sockaddr *to, socklen_t tolen)
{
    if (to != NULL && undecided_get(fd) != NULL && !shunt_share_inside())
        decide(fd, SHUNT_POLICY_CONNECT, to, tolen);
}

EXPORT ssize_t NAME(sendto)(int fd, const void *buf, size_t len, int flags, const struct sockaddr *to,
                      socklen_t tolen)
{
    decide_by_peer(fd, to, tolen);
    if (kernels(fd))
        return K->sendto(fd, buf, len, flags, to, tolen);
    ON_SHUNT(ssize_t, shunt_sendto(fd, buf, len, flags, to, tolen));
}

EXPORT ssize_t NAME(recvmsg)(int fd, struct msghdr *msg, int flags)
{
    if (kernels(fd))
        return K->recvmsg(fd, msg, flags);
    ON_SHUNT(ssize_t, shunt_recvmsg(fd, msg, flags));
}

EXPORT ssize_t NAME(sendmsg)(int fd, const struct msghdr *msg, int flags)
{
    if (msg != NULL)
        decide_by_peer(fd, msg->msg_name, msg->msg_namelen);
    if (kernels(fd))
        return K->sendmsg(fd, msg, flags);
    ON_SHUNT(ssize_t, shunt_sendmsg(fd, msg, flags));
}

EXPORT int NAME(sendmmsg)(int fd, struct mmsghdr *vec, unsigned int n, int flags)
{
    for (unsigned i = 0; i < n && vec != NULL && undecided_get(fd) != NULL; i++)
        decide_by_peer(fd, vec[i].msg_hdr.msg_name, vec[i].msg_hdr.msg_namelen);
    if (kernels(fd))
        return K->sendmmsg(fd, vec, n, flags);
    ON_SHUNT(int, shunt_sendmmsg(fd, vec, n, flags));
}

EXPORT int NAME(recvmmsg)(int fd, struct mmsghdr *vec, unsigned int n, int flags,
                          struct timespec *timeout)
{
    if (kernels(fd))
        return K->recvmmsg(fd, vec, n, flags, timeout);
    ON_SHUNT(int, shunt_recvmmsg(fd, vec, n, flags, timeout));
}

EXPORT ssize_t NAME(sendfile)(int out, int in, off_t *offset, size_t count)
{
    if (kernels(out))
        return K->sendfile(out, in, offset, count);
    ON_SHUNT(ssize_t, shunt_sendfile(out, in, offset, count));
}

/* off_t is 64 bits on x86-64: sendfile64 is the same call. */
EXPORT ssize_t NAME(sendfile64)(int out, int in, off_t *offset, size_t count)
    __attribute__((alias(NAME_STR(sendfile))));

/* ---- control ------------------------------------------------------------------------- */

EXPORT int NAME(fcntl)(int fd, int cmd, ...)
{
    va_list ap;

    va_start(ap, cmd);
    long arg = va_arg(ap, long);        /* an int or a pointer, or nothing */
    va_end(ap);
    if (cmd == F_DUPFD || cmd == F_DUPFD_CLOEXEC)
        return dup_from(fd, (int)arg, cmd == F_DUPFD_CLOEXEC);
    if (kernels(fd))
        return K->fcntl(fd, cmd, arg);
    ON_SHUNT(int, shunt_fcntl(fd, cmd, (int)arg));
}

/* glibc's fcntl for 64-bit offsets: the same call here (locks are the
 * kernel's on any descriptor, with the struct flock64 pointer as is). */
EXPORT int NAME(fcntl64)(int fd, int cmd, ...) __attribute__((alias(NAME_STR(fcntl))));

EXPORT int NAME(ioctl)(int fd, unsigned long request, ...)
{
    va_list ap;

    va_start(ap, request);
    void *arg = va_arg(ap, void *);
    va_end(ap);
    if (kernels(fd))
        return K->ioctl(fd, request, arg);
    ON_SHUNT(int, shunt_ioctl(fd, request, arg));
}

/* ---- readiness -------------------------------------------------------------------------- */

/* Whether a poll() set names a Shunt descriptor (if not, it waits in the kernel). */
static bool polls_shunt(const struct pollfd *fds, nfds_t n)
{
    for (nfds_t i = 0; i < n && fds != NULL; i++)
        if (!kernels(fds[i].fd))
            return true;
    return false;
}

EXPORT int NAME(poll)(struct pollfd *fds, nfds_t n, int timeout)
{
    if (!polls_shunt(fds, n))           /* only the kernel's: wait in the kernel */
        return K->poll(fds, n, timeout);
    ON_SHUNT(int, shunt_poll_fds(fds, n, timeout));
}

EXPORT int NAME(ppoll)(struct pollfd *fds, nfds_t n, const struct timespec *timeout,
                       const sigset_t *mask)
{
    if (!polls_shunt(fds, n))
        return K->ppoll(fds, n, timeout, mask);
    ON_SHUNT(int, shunt_ppoll(fds, n, timeout, mask));
}

/* Whether select()'s sets name a Shunt descriptor. */
static bool selects_shunt(int n, const fd_set *r, const fd_set *w, const fd_set *e)
{
    for (int fd = 0; fd < n && fd < FD_SETSIZE; fd++)
        if (((r != NULL && FD_ISSET(fd, r)) || (w != NULL && FD_ISSET(fd, w)) ||
             (e != NULL && FD_ISSET(fd, e))) && !kernels(fd))
            return true;
    return false;
}

EXPORT int NAME(select)(int n, fd_set *r, fd_set *w, fd_set *e, struct timeval *timeout)
{
    if (!selects_shunt(n, r, w, e))
        return K->select(n, r, w, e, timeout);
    ON_SHUNT(int, shunt_select(n, r, w, e, timeout));
}

EXPORT int NAME(pselect)(int n, fd_set *r, fd_set *w, fd_set *e, const struct timespec *timeout,
                         const sigset_t *mask)
{
    if (!selects_shunt(n, r, w, e))
        return K->pselect(n, r, w, e, timeout, mask);
    ON_SHUNT(int, shunt_pselect(n, r, w, e, timeout, mask));
}

EXPORT int NAME(epoll_create1)(int flags)
{
    int fd = K->epoll_create1(flags);

    if (fd >= 0 && accelerating && !shunt_share_inside()) {
        struct undecided *u = calloc(1, sizeof(*u));
        if (u != NULL) {
            u->epoll = true;
            undecided_put(fd, u);
        }
    }
    return fd;
}

EXPORT int NAME(epoll_create)(int size)
{
    if (size <= 0) {                    /* the one thing size still means */
        errno = EINVAL;
        return -1;
    }
    return NAME(epoll_create1)(0);
}

EXPORT int NAME(epoll_ctl)(int epfd, int op, int fd, struct epoll_event *ev)
{
    struct undecided *u = undecided_get(epfd);

    /* A kernel epoll given a Shunt socket becomes Shunt's around itself. */
    if (u != NULL && u->epoll && !kernels(fd)) {
        if (!shunt_share_enter())
            return -1;
        int rc = shunt_epoll_adopt(epfd, u->nkernel);
        shunt_share_leave();
        if (rc != 0)
            return -1;
        undecided_free(undecided_take(epfd));
        u = NULL;
    }
    if (kernels(epfd)) {
        int rc = K->epoll_ctl(epfd, op, fd, ev);
        if (rc == 0 && u != NULL)
            u->nkernel += op == EPOLL_CTL_ADD ? 1 : op == EPOLL_CTL_DEL ? -1 : 0;
        return rc;
    }
    ON_SHUNT(int, shunt_epoll_ctl(epfd, op, fd, ev));
}

EXPORT int NAME(epoll_wait)(int epfd, struct epoll_event *events, int max, int timeout)
{
    /* Only kernel descriptors in it: wait in the kernel epoll under it. */
    if (kernels(epfd) || !shunt_epoll_watches_sockets(epfd))
        return K->epoll_wait(epfd, events, max, timeout);
    ON_SHUNT(int, shunt_epoll_wait(epfd, events, max, timeout));
}

EXPORT int NAME(epoll_pwait)(int epfd, struct epoll_event *events, int max, int timeout,
                             const sigset_t *mask)
{
    if (kernels(epfd) || !shunt_epoll_watches_sockets(epfd))
        return K->epoll_pwait(epfd, events, max, timeout, mask);
    ON_SHUNT(int, shunt_epoll_pwait(epfd, events, max, timeout, mask));
}

/* ---- signals ----------------------------------------------------------------------------- */

EXPORT int NAME(sigaction)(int sig, const struct sigaction *act, struct sigaction *old)
{
    return shunt_signals_sigaction(sig, act, old);
}

/* glibc's signal() and bsd_signal() have BSD's semantics: SA_RESTART. */
EXPORT __sighandler_t NAME(signal)(int sig, __sighandler_t handler)
{
    return shunt_signals_signal(sig, handler, SA_RESTART);
}

EXPORT __sighandler_t NAME(bsd_signal)(int sig, __sighandler_t handler)
{
    return shunt_signals_signal(sig, handler, SA_RESTART);
}

EXPORT __sighandler_t NAME(sysv_signal)(int sig, __sighandler_t handler)
{
    return shunt_signals_signal(sig, handler, SA_RESETHAND | SA_NODEFER);
}
