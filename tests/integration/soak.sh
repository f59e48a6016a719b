#!/bin/bash
# soak.sh - one minute of scripts/soak in CI: bulk TCP, request/response,
# connection churn with each side closing first and UDP against shunt-echo
# on AF_XDP, under 1 % loss and 5 % reordering each way; every byte
# checked, memory flat, and back at its baseline with the frame balance
# holding once the load stops (scripts/soak.py says how each is judged).
# The plain build only: under the sanitizers the same minute proves
# nothing more than the plain build's and would add a minute to that CI
# run, so a build configured with --enable-sanitizers (its config.log says
# so) reports SKIP (77), saying why.
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${top_builddir:=$top_srcdir}"
if grep -q -- '--enable-sanitizers' "$top_builddir/config.log" 2>/dev/null; then
    echo "soak.sh: a sanitizer build ($top_builddir/config.log): the soak runs in the plain build only"
    exit 77
fi
exec "$top_srcdir/scripts/soak" --build "$top_builddir" -s 60 -- --warmup 20
