/*
 * text.h - what the parsers of text (the configuration file, a fault
 * specification) share: white space trimmed, an error said in one line.
 */
#ifndef SHUNT_TEXT_H
#define SHUNT_TEXT_H

#include <stddef.h>

/* s without the white space at either end (cut in place). */
char *shunt_trim(char *s);

/* The message, printf-style, into err; returns -1 for the caller to return. */
int shunt_fail(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif /* SHUNT_TEXT_H */
