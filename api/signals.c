/*
 * signals.c - handlers through a trampoline that notes they ran (signals.h).
 */
#define _GNU_SOURCE
#include "signals.h"

#include <dlfcn.h>
#include <errno.h>
#include <string.h>

/* What the program asked for, per signal; wrapped when its handler runs
 * through the trampoline (not SIG_DFL or SIG_IGN). */
static struct sigaction asked[NSIG];
static volatile sig_atomic_t wrapped[NSIG];

/* Per thread: handlers that ran, without and with SA_RESTART, and the
 * counts when the call under way began. */
static __thread unsigned ran_plain, ran_restart, begin_plain, begin_restart;

static int (*real_sigaction)(int, const struct sigaction *, struct sigaction *);

static int kernel_sigaction(int sig, const struct sigaction *act, struct sigaction *old)
{
    if (real_sigaction == NULL)
        real_sigaction = (int (*)(int, const struct sigaction *, struct sigaction *))
                         dlsym(RTLD_NEXT, "sigaction");
    return real_sigaction(sig, act, old);
}

static void trampoline(int sig, siginfo_t *info, void *uc)
{
    struct sigaction a = asked[sig];

    if (a.sa_flags & SA_RESETHAND)      /* the kernel has reset it to SIG_DFL */
        wrapped[sig] = 0;
    if (a.sa_flags & SA_SIGINFO)
        a.sa_sigaction(sig, info, uc);
    else if (a.sa_handler != SIG_IGN && a.sa_handler != SIG_DFL)
        a.sa_handler(sig);
    if (a.sa_flags & SA_RESTART)
        ran_restart++;
    else
        ran_plain++;
}

static bool is_handler(const struct sigaction *act)
{
    return (act->sa_flags & SA_SIGINFO) ||
           (act->sa_handler != SIG_IGN && act->sa_handler != SIG_DFL);
}

int shunt_signals_sigaction(int sig, const struct sigaction *act, struct sigaction *old)
{
    /* SIGKILL, SIGSTOP and bad numbers: the kernel says EINVAL. */
    if (sig <= 0 || sig >= NSIG || sig == SIGKILL || sig == SIGSTOP)
        return kernel_sigaction(sig, act, old);

    struct sigaction before = asked[sig], k;
    bool was_wrapped = wrapped[sig];
    const struct sigaction *give = act;
    if (act != NULL && is_handler(act)) {
        asked[sig] = *act;              /* first: the trampoline may run at once */
        k = *act;
        k.sa_flags |= SA_SIGINFO;
        k.sa_sigaction = trampoline;
        give = &k;
    }
    int rc = kernel_sigaction(sig, give, old);
    if (rc != 0) {
        asked[sig] = before;
        return rc;
    }
    if (act != NULL)
        wrapped[sig] = is_handler(act);
    if (old != NULL && was_wrapped)
        *old = before;                  /* the program's handler, not ours */
    return 0;
}

__sighandler_t shunt_signals_signal(int sig, __sighandler_t handler, int flags)
{
    struct sigaction act, old;

    memset(&act, 0, sizeof(act));
    act.sa_handler = handler;
    act.sa_flags = flags;
    sigemptyset(&act.sa_mask);
    if (shunt_signals_sigaction(sig, &act, &old) != 0)
        return SIG_ERR;
    return old.sa_handler;
}

void shunt_signals_call_begins(void)
{
    begin_plain = ran_plain;
    begin_restart = ran_restart;
}

bool shunt_signals_interrupted(bool restartable)
{
    return ran_plain != begin_plain || (!restartable && ran_restart != begin_restart);
}
