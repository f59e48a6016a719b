/*
 * path.h - which path the process took: Shunt's stack, or the kernel's
 * sockets (api/shunt.c).  Every call that creates a descriptor asks it.
 */
#ifndef SHUNT_PATH_H
#define SHUNT_PATH_H

enum shunt_path {
    SHUNT_PATH_NONE,            /* before shunt_init */
    SHUNT_PATH_STACK,           /* Shunt's own stack */
    SHUNT_PATH_KERNEL,          /* the kernel's sockets */
    SHUNT_PATH_OVER,            /* after shunt_exit */
};
enum shunt_path shunt_path(void);

#endif /* SHUNT_PATH_H */
