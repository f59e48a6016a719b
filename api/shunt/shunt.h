/*
 * <shunt/shunt.h> - start, drive and stop a Shunt stack instance.
 *
 * A process holds one instance: a user-space TCP/IP stack (lwIP) on one
 * DPDK port queue, driven by a run-to-completion poll loop on the calling
 * thread.  Either call shunt_poll() from your own loop, or let Shunt's
 * blocking calls spin it for you.
 *
 * Build against it with `pkg-config --cflags --libs shunt`.
 */
#ifndef SHUNT_SHUNT_H
#define SHUNT_SHUNT_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Start the instance from a configuration file (see the README); NULL means
 * the file named by the environment variable SHUNT_CONFIG.  Brings up the
 * EAL, the port and lwIP.  Returns 0, or -1 with errno set after printing
 * one line on stderr saying what is wrong and how to fix it.  Once per
 * process: the EAL cannot start twice.
 */
int shunt_init(const char *config_path);

/*
 * How many instances the configuration file describes (`instances = N`,
 * each its own process on its own core and queue): 1 for a single one.
 * Each process of a group chooses its index with $SHUNT_INSTANCE before
 * shunt_init.  Reads the file only; -1 after printing one line on stderr
 * when it cannot be read or is wrong.
 */
int shunt_instances(const char *config_path);

/* Stop the instance: print its counters (unless `stats = no`), close the
 * port, release the EAL. */
void shunt_exit(void);

/* One turn of the poll loop.  Returns the number of frames received, or -1
 * with errno EDEADLK when called from inside a turn (from the poll hook). */
int shunt_poll(void);

/*
 * How the loop spent its time, counted since the instance started: turns
 * begun, busy turns (that received or sent a frame), and work_ns, the
 * clock time between turns next to a busy one, with no sleep in it - the
 * turns' work and the program's calls between them, its spinning left
 * out, and spans of 1 ms or more, where the thread was preempted (what a
 * message costs the core beyond waiting for it).  Returns 0,
 * or -1 with errno ENODEV on the kernel path.
 */
struct shunt_loop_load {
    uint64_t turns, busy_turns, work_ns;
};
int shunt_loop_load(struct shunt_loop_load *out);

/*
 * Write every frame the instance receives and sends to a pcap file, or only
 * those a tcpdump filter keeps (NULL: all), cut to the snap length and
 * rotated as the configuration says; a NULL path stops capturing.  A new
 * capture replaces the one under way, which stops even if the new one
 * cannot start.  Returns 0, or -1 with errno:
 * EINVAL for a filter that does not compile or a file that cannot be
 * written (the reason is logged), ENODEV on the kernel path.
 */
int shunt_capture(const char *path, const char *filter);

/*
 * Run fn(arg) once per loop turn, after lwIP's work and before the turn's
 * frames are sent; NULL removes it.  fn runs inside the turn, so the loop
 * cannot turn from there: a call that would wait (a blocking recv, accept
 * or connect, epoll_wait/poll/select with a timeout, shunt_poll) fails with
 * EDEADLK; non-blocking calls and zero timeouts work, without a turn.
 */
typedef void (*shunt_poll_hook)(void *arg);
void shunt_set_poll_hook(shunt_poll_hook fn, void *arg);

#ifdef __cplusplus
}
#endif

#endif /* SHUNT_SHUNT_H */
