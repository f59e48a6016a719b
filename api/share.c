/*
 * share.c - the stack's lock, its owner process, and the progress thread
 * (share.h).
 */
#define _GNU_SOURCE
#include "share.h"

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "signals.h"
#include "sock.h"
#include "stack.h"

static __thread int inside;

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static atomic_int waiting;              /* threads waiting for the lock */
static bool started;

/* The owner's pid, in memory every forked process shares; 0 after a fork
 * until one of them uses the instance. */
static _Atomic pid_t *owner;
static pid_t self;

static uint32_t progress_us;
static pthread_t progress;
static pid_t progress_pid;              /* the process the thread runs in */
static atomic_bool progress_stop;

bool shunt_share_inside(void)
{
    return inside > 0;
}

void shunt_share_guard(int delta)
{
    inside += delta;
}

/* ---- the lock ---------------------------------------------------------------- */

static void take(void)
{
    atomic_fetch_add_explicit(&waiting, 1, memory_order_relaxed);
    pthread_mutex_lock(&lock);
    atomic_fetch_sub_explicit(&waiting, 1, memory_order_relaxed);
}

/*
 * Between a waiting call's turns: a thread that waits for the lock gets it
 * (a mutex would let this thread take it straight back), and the loop's
 * idle sleep (stack/idle.h), if the call is to sleep, runs with the lock
 * let go.
 */
static void pause_turns(void (*sleep)(void *arg), void *arg)
{
    if (sleep == NULL && atomic_load_explicit(&waiting, memory_order_relaxed) == 0)
        return;
    pthread_mutex_unlock(&lock);
    if (sleep != NULL)
        sleep(arg);
    for (int i = 0; i < 64 && atomic_load_explicit(&waiting, memory_order_relaxed) > 0; i++)
        sched_yield();
    take();
}

static const struct shunt_wait_hooks hooks = { pause_turns, shunt_signals_interrupted };

/* ---- the owner ---------------------------------------------------------------- */

bool shunt_share_owner(void)
{
    return !started || atomic_load_explicit(owner, memory_order_relaxed) == self;
}

static void start_progress(void);
static void stop_progress(void);

/* Take the instance if no process has it since the last fork. */
static bool claim(void)
{
    pid_t none = 0;

    if (atomic_compare_exchange_strong(owner, &none, self)) {
        SHUNT_LOG(INFO, "process %d drives the stack now", (int)self);
        start_progress();
        return true;
    }
    static pid_t told;
    if (told != self) {
        told = self;
        SHUNT_LOG(ERR, "process %d cannot use Shunt's sockets: process %d drives the stack "
                  "(one process per instance; see README, fork)", (int)self,
                  (int)atomic_load(owner));
    }
    return false;
}

bool shunt_share_enter(void)
{
    if (started && atomic_load_explicit(owner, memory_order_relaxed) != self && !claim()) {
        errno = EBADF;
        return false;
    }
    inside++;
    take();
    shunt_signals_call_begins();
    return true;
}

void shunt_share_leave(void)
{
    pthread_mutex_unlock(&lock);
    inside--;
}

/* ---- progress ------------------------------------------------------------------- */

static void *progress_main(void *arg)
{
    (void)arg;
    inside = 1;                         /* every call of this thread is the kernel's */
    /* The program's signals are for its own threads: a handler run here
     * would interrupt none of its calls. */
    sigset_t all;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, NULL);
    struct timespec nap = { progress_us / 1000000, (long)(progress_us % 1000000) * 1000 };
    uint64_t seen = 0;
    while (!atomic_load(&progress_stop)) {
        nanosleep(&nap, NULL);
        uint64_t now = shunt_sock_turn_number();
        if (now != seen) {              /* someone turned it: nothing to do */
            seen = now;
            continue;
        }
        if (pthread_mutex_trylock(&lock) != 0)
            continue;
        if (atomic_load_explicit(owner, memory_order_relaxed) == self)
            shunt_stack_poll();
        pthread_mutex_unlock(&lock);
        seen = shunt_sock_turn_number();
    }
    return NULL;
}

/* The CPUs the process may run on, before the EAL pins the thread that
 * starts it to its lcore. */
static cpu_set_t process_cpus;

__attribute__((constructor)) static void note_cpus(void)
{
    if (sched_getaffinity(0, sizeof(process_cpus), &process_cpus) != 0)
        CPU_ZERO(&process_cpus);
}

/*
 * The progress thread runs on the process's CPUs other than the calling
 * thread's (the owner, pinned to its lcore): on the owner's own core, its
 * every wake-up would preempt the thread that polls (redis-benchmark -c 1
 * went from 10k to 4.4k requests/s that way).  On a single CPU it shares.
 */
static void place_progress(pthread_attr_t *attr)
{
    cpu_set_t mine, cpus;

    if (CPU_COUNT(&process_cpus) == 0 || pthread_getaffinity_np(pthread_self(), sizeof(mine), &mine) != 0)
        return;
    CPU_XOR(&cpus, &process_cpus, &mine);
    CPU_AND(&cpus, &cpus, &process_cpus);
    pthread_attr_setaffinity_np(attr, sizeof(cpus), CPU_COUNT(&cpus) > 0 ? &cpus : &process_cpus);
}

static void start_progress(void)
{
    pthread_attr_t attr;

    if (progress_us == 0 || progress_pid == self)
        return;
    atomic_store(&progress_stop, false);
    pthread_attr_init(&attr);
    place_progress(&attr);
    int rc = pthread_create(&progress, &attr, progress_main, NULL);
    pthread_attr_destroy(&attr);
    if (rc != 0) {
        SHUNT_LOG(WARNING, "no progress thread: TCP waits while the program does not call");
        return;
    }
    pthread_setname_np(progress, "shunt-progress");
    progress_pid = self;
}

/* ---- fork ------------------------------------------------------------------------ */

static void stop_progress(void)
{
    if (progress_pid != self)
        return;
    atomic_store(&progress_stop, true);
    pthread_join(progress, NULL);
    progress_pid = 0;
}

/*
 * No thread of Shunt's runs while the process forks, and none is inside a
 * turn: a lock some thread held at the fork stays held in the child for
 * good (AddressSanitizer's allocator deadlocked nginx's worker that way).
 * The progress thread starts again in whichever process claims the stack.
 */
static void before_fork(void)
{
    stop_progress();
    pthread_mutex_lock(&lock);
}

static void after_fork_parent(void)
{
    atomic_store(owner, 0);             /* the first to use it after the fork owns it */
    pthread_mutex_unlock(&lock);
}

static void after_fork_child(void)
{
    pthread_mutex_init(&lock, NULL);    /* the fork copied it held */
    atomic_store(&waiting, 0);
    self = getpid();                    /* no progress thread here: claim() starts one */
}

void shunt_share_start(uint32_t us)
{
    owner = mmap(NULL, sizeof(*owner), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (owner == MAP_FAILED) {
        SHUNT_LOG(ERR, "no shared page for the owner's pid: %s", strerror(errno));
        abort();
    }
    self = getpid();
    atomic_store(owner, self);
    progress_us = us;
    shunt_sock_set_wait_hooks(&hooks);
    pthread_atfork(before_fork, after_fork_parent, after_fork_child);
    started = true;
    start_progress();
}

bool shunt_share_stop(void)
{
    if (!started)
        return false;
    stop_progress();
    return atomic_load(owner) == self;
}
