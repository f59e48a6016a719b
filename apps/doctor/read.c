/*
 * read.c - /proc and /sys under a root directory.
 */
#include "read.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void rd_path(const char *root, const char *path, char *out, size_t len)
{
    snprintf(out, len, "%s%s", root, path);
}

int rd_text(const char *root, const char *path, char *buf, size_t len)
{
    char full[PATH_MAX];

    rd_path(root, path, full, sizeof(full));
    FILE *f = fopen(full, "r");
    if (f == NULL)
        return -1;
    size_t n = fread(buf, 1, len - 1, f);
    int e = ferror(f) ? errno : 0;
    fclose(f);
    if (e != 0) {
        errno = e;
        return -1;
    }
    buf[n] = '\0';
    while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
        buf[--n] = '\0';
    return 0;
}

int rd_long(const char *root, const char *path, long *v)
{
    char buf[64], *end;

    if (rd_text(root, path, buf, sizeof(buf)) != 0)
        return -1;
    errno = 0;
    *v = strtol(buf, &end, 10);
    if (end == buf || errno != 0) {
        errno = EINVAL;
        return -1;
    }
    return 0;
}

bool rd_exists(const char *root, const char *path)
{
    char full[PATH_MAX];

    rd_path(root, path, full, sizeof(full));
    return access(full, F_OK) == 0;
}

int rd_link_name(const char *root, const char *path, char *buf, size_t len)
{
    char full[PATH_MAX], target[PATH_MAX];

    rd_path(root, path, full, sizeof(full));
    ssize_t n = readlink(full, target, sizeof(target) - 1);
    if (n < 0)
        return -1;
    target[n] = '\0';
    const char *slash = strrchr(target, '/');
    snprintf(buf, len, "%s", slash != NULL ? slash + 1 : target);
    return 0;
}

DIR *rd_opendir(const char *root, const char *path)
{
    char full[PATH_MAX];

    rd_path(root, path, full, sizeof(full));
    return opendir(full);
}

int rd_cpulist(const char *text, bool *set, int n)
{
    const char *p = text;

    memset(set, 0, (size_t)n * sizeof(*set));
    while (*p != '\0' && *p != '\n') {
        char *end;
        long lo = strtol(p, &end, 10), hi = lo;
        if (end == p || lo < 0)
            return -1;
        if (*end == '-') {
            p = end + 1;
            hi = strtol(p, &end, 10);
            if (end == p || hi < lo)
                return -1;
        }
        for (long c = lo; c <= hi && c < n; c++)
            set[c] = true;
        p = end;
        if (*p == ',')
            p++;
        else if (*p != '\0' && *p != '\n')
            return -1;
    }
    return 0;
}

void rd_format_cpulist(const bool *set, int n, char *out, size_t len)
{
    size_t used = 0;

    out[0] = '\0';
    for (int c = 0; c < n && used < len; c++) {
        if (!set[c])
            continue;
        int end = c;
        while (end + 1 < n && set[end + 1])
            end++;
        used += (size_t)snprintf(out + used, len - used, end > c ? "%s%d-%d" : "%s%d",
                                 used ? "," : "", c, end);
        c = end;
    }
}

int rd_cmdline_param(const char *root, const char *name, char *out, size_t len)
{
    char line[4096];
    size_t nl = strlen(name);

    if (rd_text(root, "/proc/cmdline", line, sizeof(line)) != 0)
        return -1;
    for (char *save = NULL, *w = strtok_r(line, " \t", &save); w != NULL;
         w = strtok_r(NULL, " \t", &save)) {
        if (strncmp(w, name, nl) == 0 && (w[nl] == '=' || w[nl] == '\0')) {
            snprintf(out, len, "%s", w[nl] == '=' ? w + nl + 1 : "");
            return 0;
        }
    }
    errno = ENOENT;
    return -1;
}

int rd_mount_of(const char *root, const char *fstype, char *out, size_t len)
{
    char full[PATH_MAX], line[1024], dev[256], dir[512], type[64];

    rd_path(root, "/proc/mounts", full, sizeof(full));
    FILE *f = fopen(full, "r");
    if (f == NULL)
        return -1;
    int rc = -1;
    while (rc != 0 && fgets(line, sizeof(line), f) != NULL) {
        if (sscanf(line, "%255s %511s %63s", dev, dir, type) == 3 && strcmp(type, fstype) == 0) {
            snprintf(out, len, "%s", dir);
            rc = 0;
        }
    }
    fclose(f);
    if (rc != 0)
        errno = ENOENT;
    return rc;
}
