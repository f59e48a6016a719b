/*
 * probe.c - a plain Linux socket program, built without Shunt, that
 * semantics.sh runs under shunt-run to check what the interposer promises:
 *
 *   probe escape PORT    a raw syscall on a Shunt socket fails loudly
 *   probe eintr PORT     a blocking accept() ends with EINTR after a handler
 *                        without SA_RESTART, and goes on after one with it
 *   probe progress PORT  the peer's handshake completes while the program
 *                        sleeps in the kernel
 *   probe fork PORT      a forked child that closes its copies (_exit, then
 *                        exit) leaves the parent's connection alone
 *   probe threads PORT   two threads echo on their own connections at once
 *   probe dup PORT       a dup()ed socket outlives the original's close()
 *   probe idle PORT      a blocking accept() that waits 2 s (SO_RCVTIMEO)
 *                        sleeps most of it (run with poll = spin-then-sleep)
 *   probe mmsg PORT      a UDP socket on PORT takes 4 datagrams with
 *                        recvmmsg(), each with its SCM_TIMESTAMPNS, and
 *                        echoes them with one sendmmsg() (then waits for
 *                        the peer's "bye")
 *
 * Each listens on PORT (the wildcard: Shunt's), and prints one line per
 * check, "ok: ..." or "FAIL: ..."; it exits 1 on the first failure.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static void check(int ok, const char *what)
{
    printf("%s: %s\n", ok ? "ok" : "FAIL", what);
    fflush(stdout);
    if (!ok)
        exit(1);
}

static int listener(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0), on = 1;
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };

    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
    check(bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0, "bind to the wildcard");
    check(listen(fd, 16) == 0, "listen");
    printf("listening on %d\n", port);
    fflush(stdout);
    return fd;
}

/* Echo one connection until the peer closes it; the bytes echoed. */
static long echo(int fd)
{
    char buf[4096];
    long total = 0;
    ssize_t n;

    while ((n = read(fd, buf, sizeof(buf))) > 0) {
        for (ssize_t off = 0; off < n;) {
            ssize_t w = write(fd, buf + off, (size_t)(n - off));
            if (w <= 0)
                return -1;
            off += w;
        }
        total += n;
    }
    return n == 0 ? total : -1;
}

static void escape(int port)
{
    int fd = listener(port);
    char c;

    check(fd < 1024, "a Shunt descriptor is a small number (FD_SET works)");
    errno = 0;
    long r = syscall(SYS_read, fd, &c, 1);
    check(r == -1 && errno == ENOTCONN, "a raw read() past the interposer fails with ENOTCONN");
    struct sockaddr_in a;
    socklen_t len = sizeof(a);
    r = syscall(SYS_getpeername, fd, &a, &len);
    check(r == -1 && errno == ENOTCONN, "a raw getpeername() fails with ENOTCONN");
    len = sizeof(a);
    check(getsockname(fd, (struct sockaddr *)&a, &len) == 0 && ntohs(a.sin_port) == port,
          "getsockname() through the interposer is Shunt's");
}

static volatile sig_atomic_t alarms;
static void on_alarm(int sig)
{
    (void)sig;
    alarms++;
}

static void eintr(int port)
{
    int fd = listener(port);
    struct sigaction sa = { .sa_handler = on_alarm };

    sigaction(SIGALRM, &sa, NULL);
    alarm(1);
    int c = accept(fd, NULL, NULL);
    check(c == -1 && errno == EINTR && alarms == 1,
          "accept() ends with EINTR after a handler without SA_RESTART");

    sa.sa_flags = SA_RESTART;
    sigaction(SIGALRM, &sa, NULL);
    struct sigaction old;
    sigaction(SIGALRM, NULL, &old);
    check(old.sa_handler == on_alarm && (old.sa_flags & SA_RESTART),
          "sigaction() reports the program's handler, not the trampoline");
    alarm(1);
    printf("waiting for a connection\n");
    fflush(stdout);
    c = accept(fd, NULL, NULL);
    check(c >= 0 && alarms == 2, "accept() goes on after a handler with SA_RESTART");
    check(echo(c) > 0, "the connection echoes");
}

static void progress(int port)
{
    int fd = listener(port);

    printf("sleeping\n");
    fflush(stdout);
    sleep(3);                           /* the peer connects and sends meanwhile */
    int c = accept(fd, NULL, NULL);
    check(c >= 0, "accept() finds the connection made while the program slept");
    check(echo(c) > 0, "the connection echoes what was sent meanwhile");
}

static void fork_children(int port)
{
    int fd = listener(port);
    int c = accept(fd, NULL, NULL);

    check(c >= 0, "accept");
    for (int i = 0; i < 2; i++) {
        pid_t pid = fork();
        if (pid == 0) {
            close(fd);
            close(c);
            if (i == 0)
                _exit(0);
            exit(0);                    /* destructors run: the stack is not the child's */
        }
        int status;
        check(waitpid(pid, &status, 0) == pid && WIFEXITED(status) && WEXITSTATUS(status) == 0,
              i == 0 ? "a child closes its copies and _exits" : "a child closes its copies and exits");
    }
    /* A child that uses a socket once the parent has taken the stack back:
     * EBADF, and one log line, never the parent's connection. */
    int go[2];
    check(pipe(go) == 0, "a pipe");
    pid_t pid = fork();
    if (pid == 0) {
        char b;
        close(go[1]);
        if (read(go[0], &b, 1) != 1)
            _exit(3);
        errno = 0;
        _exit(write(c, "x", 1) == -1 && errno == EBADF ? 0 : 1);
    }
    close(go[0]);
    struct sockaddr_in me;
    socklen_t len = sizeof(me);
    check(getsockname(c, (struct sockaddr *)&me, &len) == 0, "the parent uses its socket first");
    check(write(go[1], "g", 1) == 1, "the child goes");
    int status;
    check(waitpid(pid, &status, 0) == pid && WIFEXITED(status) && WEXITSTATUS(status) == 0,
          "a child's write() on the parent's socket fails with EBADF");
    printf("children gone\n");
    fflush(stdout);
    check(echo(c) > 0, "the parent's connection still echoes");
}

static void *echo_thread(void *arg)
{
    return (void *)echo((int)(long)arg);
}

static void threads(int port)
{
    int fd = listener(port);
    int a = accept(fd, NULL, NULL), b = accept(fd, NULL, NULL);
    pthread_t ta, tb;
    void *ra, *rb;

    check(a >= 0 && b >= 0, "two connections");
    pthread_create(&ta, NULL, echo_thread, (void *)(long)a);
    pthread_create(&tb, NULL, echo_thread, (void *)(long)b);
    pthread_join(ta, &ra);
    pthread_join(tb, &rb);
    check((long)ra > 0 && (long)rb > 0, "two threads echoed on their own connections at once");
}

static void dups(int port)
{
    int fd = listener(port);
    int c = accept(fd, NULL, NULL);
    int d = dup(c);

    check(d >= 0 && d != c, "dup() of a Shunt socket");
    check(close(c) == 0, "close() the original");
    check(close(c) == -1 && errno == EBADF, "a second close() is EBADF");
    check(echo(d) > 0, "the duplicate still echoes");
}

static double cpu_seconds(void)
{
    struct rusage ru;

    getrusage(RUSAGE_SELF, &ru);
    return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
           (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

static void idle(int port)
{
    int fd = listener(port);
    struct timeval tv = { 2, 0 };
    struct timespec t0, t1;

    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    double cpu0 = cpu_seconds();
    clock_gettime(CLOCK_MONOTONIC, &t0);
    int c = accept(fd, NULL, NULL);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double wall = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    double cpu = cpu_seconds() - cpu0;
    check(c == -1 && errno == EAGAIN && wall >= 1.9, "accept() times out after SO_RCVTIMEO");
    printf("waited %.2f s on %.2f s of CPU\n", wall, cpu);
    check(cpu < wall / 2, "the wait slept: under half its time on the CPU");
}

static void mmsg(int port)
{
    enum { N = 4 };
    int fd = socket(AF_INET, SOCK_DGRAM, 0), on = 1;
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
    struct timeval tv = { 20, 0 };
    struct mmsghdr m[N];
    struct iovec iov[N];
    struct sockaddr_in from[N];
    char data[N][64];
    union { char buf[CMSG_SPACE(sizeof(struct timespec))]; struct cmsghdr align; } ctl[N];

    check(bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0, "bind a UDP socket to the wildcard");
    check(setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &on, sizeof(on)) == 0, "SO_TIMESTAMPNS");
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    printf("listening on %d\n", port);
    int got = 0;
    while (got < N) {
        for (int i = got; i < N; i++) {
            iov[i] = (struct iovec){ data[i], sizeof(data[i]) };
            m[i] = (struct mmsghdr){ { &from[i], sizeof(from[i]), &iov[i], 1, ctl[i].buf,
                                       sizeof(ctl[i].buf), 0 }, 0 };
        }
        int n = recvmmsg(fd, m + got, N - got, MSG_WAITFORONE, NULL);
        check(n > 0, "recvmmsg() with MSG_WAITFORONE takes what came");
        got += n;
    }
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    bool stamped = true;
    for (int i = 0; i < N; i++) {
        struct cmsghdr *h = CMSG_FIRSTHDR(&m[i].msg_hdr);
        struct timespec ts = { 0, 0 };
        if (h == NULL || h->cmsg_level != SOL_SOCKET || h->cmsg_type != SCM_TIMESTAMPNS) {
            stamped = false;
            continue;
        }
        memcpy(&ts, CMSG_DATA(h), sizeof(ts));
        stamped &= ts.tv_sec <= now.tv_sec && ts.tv_sec >= now.tv_sec - 30;
        iov[i].iov_len = m[i].msg_len;
        m[i].msg_hdr.msg_control = NULL;
        m[i].msg_hdr.msg_controllen = 0;
    }
    check(stamped, "each datagram has its SCM_TIMESTAMPNS, of the last seconds");
    check(sendmmsg(fd, m, N, 0) == N, "sendmmsg() echoes the 4 back");
    /* The echoes may wait for ARP: the stack runs until the peer has them. */
    check(recv(fd, data[0], sizeof(data[0]), 0) == 3, "the peer says it has them");
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: probe escape|eintr|progress|fork|threads|dup|idle|mmsg PORT\n");
        return 2;
    }
    int port = atoi(argv[2]);
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (strcmp(argv[1], "escape") == 0)
        escape(port);
    else if (strcmp(argv[1], "eintr") == 0)
        eintr(port);
    else if (strcmp(argv[1], "progress") == 0)
        progress(port);
    else if (strcmp(argv[1], "fork") == 0)
        fork_children(port);
    else if (strcmp(argv[1], "threads") == 0)
        threads(port);
    else if (strcmp(argv[1], "dup") == 0)
        dups(port);
    else if (strcmp(argv[1], "mmsg") == 0)
        mmsg(port);
    else if (strcmp(argv[1], "idle") == 0)
        idle(port);
    else
        return 2;
    printf("probe %s: done\n", argv[1]);
    return 0;
}
