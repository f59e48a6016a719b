# tests/integration/lib.sh - shared by the integration tests: the kernel peer
# in a network namespace (scripts/testbed.sh), a per-test scratch directory,
# assertions, and cleanup on any exit.
#
# A test sources this file, then calls tb_up to get a namespace and a running
# shunt-echo, then asserts with expect/expect_output.  Needs root: without it
# the test is reported SKIP (exit 77), and fails under CI, where every test
# must run.
set -euo pipefail

: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${top_builddir:=$top_srcdir}"
. "$top_srcdir/scripts/testbed.sh"

TEST_NAME=$(basename "$0" .sh)
SHUNT_ECHO="$top_builddir/apps/shunt-echo"

if [ "$(id -u)" != 0 ]; then
    echo "$TEST_NAME: needs root (network namespaces, veth, hugepages)" >&2
    [ "${CI:-}" = true ] && exit 1
    exit 77
fi

# A tag unique to this run, short enough for interface names.
TAG=${TEST_NAME:0:5}$$
TAG=${TAG:0:11}
WORK=$(mktemp -d "/tmp/shunt-$TEST_NAME.XXXXXX")

tb_cleanup() {
    shunt_stop >/dev/null 2>&1 || true
    topo_down "$TAG"
    rm -rf "$WORK"
}
trap tb_cleanup EXIT

fail() {
    echo "FAIL: $TEST_NAME: $*" >&2
    if [ -f "$WORK/shunt.log" ]; then
        echo "--- shunt log:" >&2
        cat "$WORK/shunt.log" >&2
    fi
    exit 1
}

# tb_up [EXTRA-CONFIG-LINES]: the namespace, and shunt-echo running against it.
tb_up() {
    topo_up "$TAG"
    topo_conf "$TAG" > "$WORK/shunt.conf"
    [ $# -gt 0 ] && printf '%s\n' "$@" >> "$WORK/shunt.conf"
    shunt_start "$WORK/shunt.log" "$SHUNT_ECHO" -c "$WORK/shunt.conf" || fail "shunt-echo did not start"
}

# peer CMD...: run CMD in the peer's namespace.
peer() {
    topo_exec "$TAG" "$@"
}

# expect_output PATTERN CMD...: CMD succeeds and prints a line matching PATTERN.
expect_output() {
    local pattern=$1 out
    shift
    out=$("$@" 2>&1) || fail "'$*' failed: $out"
    grep -qE -- "$pattern" <<<"$out" || fail "'$*' printed no line matching '$pattern': $out"
    echo "ok: $* ~ /$pattern/"
}

# counter NAME: a counter from the summary shunt-echo printed at exit.
counter() {
    grep -oE "(^| )$1[= ][0-9]+" "$WORK/shunt.log" | grep -oE "[0-9]+$" | tail -1
}
