/*
 * sys_time.h - which clock lwIP's sys_now() reads (port/sys_arch.c): the
 * instance's, set before lwip_init() starts lwIP's timers.
 */
#ifndef SHUNT_SYS_TIME_H
#define SHUNT_SYS_TIME_H

#include "clock.h"

void shunt_sys_set_clock(const struct shunt_clock *clock);

#endif /* SHUNT_SYS_TIME_H */
