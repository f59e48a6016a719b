#!/bin/sh
# socket-kernel.sh - the socket tests (tests/unit/test-socket) on the kernel
# path: the reference that every expectation there is checked against.  The
# binary run on its own is the Shunt path.
SHUNT_TEST_PATH=kernel exec "${top_builddir:-.}/tests/unit/test-socket" "$@"
