/*
 * share.h - one stack shared by a program's threads and its forked
 * processes, for the interposer (api/preload.c).
 *
 * Threads.  One lock covers the stack: a call on a Shunt descriptor takes
 * it, and a call that waits drops it between loop turns (sock.h's wait
 * hooks), so another thread's calls get in.  Whichever thread holds the
 * lock may turn the loop.  Uncontended, the lock is one atomic exchange in
 * and one out (README: what it costs the fast path).
 *
 * Progress.  While the program sleeps, computes or waits in the kernel,
 * nothing turns the loop, and TCP would stop answering handshakes, sending
 * ACKs and retransmitting.  A thread of Shunt's turns it when no one has for
 * progress_us.
 *
 * Processes.  One process drives an instance.  After fork() the instance is
 * nobody's until a process uses one of its descriptors: that process owns it
 * from then on (nginx's worker, which forked after its master opened the
 * listeners; redis's parent, whose BGSAVE child only closes and exits).  A
 * process that does not own the instance closes Shunt descriptors without
 * touching their connections, and any other call on them fails with EBADF
 * and one log line.  Only the owner stops the instance when it exits.
 *
 * The guard.  Calls Shunt makes itself - lwIP's, DPDK's, the progress
 * thread's - must reach the kernel even where they go through the
 * interposer's names: a thread-local count says the thread is inside Shunt.
 * DPDK's own threads (interrupt, multi-process, telemetry) start without it,
 * but use only AF_UNIX sockets and descriptors Shunt never owns, which the
 * interposer passes to the kernel on any thread.
 */
#ifndef SHUNT_SHARE_H
#define SHUNT_SHARE_H

#include <stdbool.h>
#include <stdint.h>

/* Inside Shunt: the interposer sends this thread's calls to the kernel. */
bool shunt_share_inside(void);

/* The stack is up: start sharing it (the lock, the progress thread every
 * progress_us, fork; a waiting call's idle sleep, poll = spin-then-sleep,
 * lets the lock go). */
void shunt_share_start(uint32_t progress_us);

/*
 * A call on a Shunt descriptor begins: inside, the lock held, signals
 * counted from now.  False (errno EBADF, nothing held) when another process
 * owns the instance.
 */
bool shunt_share_enter(void);
void shunt_share_leave(void);

/* Whether this process owns the instance (without claiming it). */
bool shunt_share_owner(void);

/* Guard only (no lock), for Shunt's own set-up calls. */
void shunt_share_guard(int delta);

/* At exit: stop the progress thread; true if this process should stop the stack. */
bool shunt_share_stop(void);

#endif /* SHUNT_SHARE_H */
