/*
 * group.h - a program run as a group of instances (config `instances = N`):
 * one process per instance, each on its own core and queue (the EAL line
 * the configuration makes for it pins it), started and stopped together.
 *
 *     int rc = group_start(config, instance);   // before shunt_init
 *     if (rc >= 0)
 *         exit(rc);     // the launcher: every instance has ended
 *     ... go on as the instance $SHUNT_INSTANCE names ...
 *
 * The launcher forwards SIGINT, SIGTERM and SIGHUP to every instance, says
 * when one ends before it was told to (the others go on serving: a
 * share-nothing group loses only that instance's connections), and exits
 * with the worst status once all have ended.  An instance restarted alone
 * (--instance I) rejoins the ones that run.  Messages start with app_name.
 */
#ifndef SHUNT_APPS_GROUP_H
#define SHUNT_APPS_GROUP_H

/*
 * instance: --instance I as given, or NULL.  With it, with a configuration
 * of one instance, on the kernel's path (SHUNT_KERNEL=1), without any
 * configuration (shunt_init will say so), or with $SHUNT_INSTANCE already
 * set, returns -1 at once: this process is the (one) instance.  Otherwise forks one child per
 * instance, each with $SHUNT_INSTANCE set, which returns -1 too; the
 * launcher returns the exit status once all have ended (1 after a
 * configuration error, said on stderr).
 */
int group_start(const char *config, const char *instance);

/*
 * A client's instance whose work is done: it keeps turning its stack's
 * loop - steering the frames of the others' flows that land on its queue,
 * which no one else can receive - until every instance of the group has
 * finished its work too (or ended), then returns.  At once outside a
 * group started by group_start.
 */
void group_finish(void);

/* The same, where each instance is a program to run: exec argv (after
 * setting $LD_PRELOAD to preload, unless NULL) in each.  Returns only in
 * the launcher, with the exit status, or after a failed exec (127). */
int group_exec(const char *config, const char *instance, const char *preload, char **argv);

#endif /* SHUNT_APPS_GROUP_H */
