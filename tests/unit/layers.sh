#!/bin/bash
# layers.sh - layers call down only: port/ (the lwIP port) includes no
# header of stack/ (the instance) or api/ (the sockets), and stack/ none of
# api/ but the public <shunt/*.h>.  Upward calls are registrations
# (port/netif.h's upcalls, stack/loop.h's output, telemetry's sockets).
set -euo pipefail
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
cd "$top_srcdir"

headers_of() {  # the headers directory $1 provides, by name
    (cd "$1" && ls ./*.h) | sed 's|^\./||'
}

bad=0
check() {       # check LAYER FORBIDDEN-DIR...
    local layer=$1 dir h
    shift
    for dir in "$@"; do
        for h in $(headers_of "$dir"); do
            if grep -n "#include \"$h\"" "$layer"/*.[ch] "$layer"/arch/*.h 2>/dev/null; then
                echo "layers: $layer/ includes $dir/$h: a lower layer calls up" >&2
                bad=1
            fi
        done
    done
}
check port stack api
check stack api
[ $bad = 0 ] || exit 1
echo "layers: port/ includes nothing of stack/ or api/; stack/ nothing of api/ but <shunt/*.h>"
