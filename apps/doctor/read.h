/*
 * read.h - shunt-doctor's one way to read the machine: /proc and /sys
 * paths (and /etc, /dev) under a root directory, so a test can hand it a
 * crafted tree (--root DIR) and the real machine is the root "".
 *
 * Each call returns 0, or -1 with errno from the read (ENOENT: not there,
 * EACCES: not readable as this user).
 */
#ifndef SHUNT_DOCTOR_READ_H
#define SHUNT_DOCTOR_READ_H

#include <dirent.h>
#include <stdbool.h>
#include <stddef.h>

/* The path under root, into out. */
void rd_path(const char *root, const char *path, char *out, size_t len);

/* A file's text, trailing newlines cut. */
int rd_text(const char *root, const char *path, char *buf, size_t len);

/* A file holding one number. */
int rd_long(const char *root, const char *path, long *v);

/* Whether path exists (as anything). */
bool rd_exists(const char *root, const char *path);

/* The last component of a symbolic link's target (a driver's name, ...). */
int rd_link_name(const char *root, const char *path, char *buf, size_t len);

/* opendir under root; NULL with errno. */
DIR *rd_opendir(const char *root, const char *path);

/* A CPU list as the kernel writes it ("0-3,8,10-11") into set[0..n);
 * 0, or -1 if it is not one. */
int rd_cpulist(const char *text, bool *set, int n);

/* set as a CPU list ("0-3,8"), into out. */
void rd_format_cpulist(const bool *set, int n, char *out, size_t len);

/* The value of NAME= (or the bare flag NAME) on the kernel command line
 * (/proc/cmdline), into out; -1 if it is not there. */
int rd_cmdline_param(const char *root, const char *name, char *out, size_t len);

/* The mount point of the first filesystem of type fstype in /proc/mounts;
 * -1 if none is mounted. */
int rd_mount_of(const char *root, const char *fstype, char *out, size_t len);

#endif /* SHUNT_DOCTOR_READ_H */
