/*
 * fuzz.h - what a fuzz target gives libFuzzer, and tests/fuzz/replay.c's
 * main gives the same function when the target runs without libFuzzer.
 */
#ifndef SHUNT_TEST_FUZZ_H
#define SHUNT_TEST_FUZZ_H

#include <stddef.h>
#include <stdint.h>

/* One input; 0 always (a failed check aborts). */
int LLVMFuzzerTestOneInput(const uint8_t *bytes, size_t size);

#endif /* SHUNT_TEST_FUZZ_H */
