#!/bin/bash
# pkgconfig.sh - what a user does first: the README's example program,
# taken from the README as it stands, builds against an installed Shunt
# through shunt.pc and serves an echo (on the kernel path, in a network
# namespace of its own, so it needs no port and no hugepages).
. "$(dirname "$0")/lib.sh"

make -C "$top_builddir" install DESTDIR="$WORK/root" >"$WORK/install.log" 2>&1 ||
    fail "make install failed: $(tail -5 "$WORK/install.log")"
pc=$(find "$WORK/root" -name shunt.pc | head -1)
lib=$(find "$WORK/root" -name libshunt.so | head -1)
[ -n "$pc" ] && [ -n "$lib" ] || fail "make install put no shunt.pc or libshunt.so under $WORK/root"
for h in shunt.h socket.h; do
    [ -n "$(find "$WORK/root" -path "*/include/shunt/$h")" ] || fail "no <shunt/$h> installed"
done

# The library exports the calls of its public headers, and nothing else.
exported=$(nm -D --defined-only "$lib" | awk '$2 == "T" { print $3 }' | sort)
declared=$(sed -n 's/.*\b\(shunt_[a-z0-9_]*\)(.*/\1/p' "$(dirname "$pc")"/../../include/shunt/*.h |
    sort -u)
[ "$exported" = "$declared" ] ||
    fail "libshunt.so exports other than its headers declare: $(comm -3 <(echo "$exported") <(echo "$declared") | tr -s ' \t\n' ' ')"
echo "ok: libshunt.so exports the $(wc -l <<<"$declared") calls of <shunt/*.h>, nothing else"

sed -n '/^    #include <netinet\/in.h>$/,/^    }$/s/^    //p' "$top_srcdir/README" >"$WORK/app.c"
grep -q "shunt_accept" "$WORK/app.c" || fail "no example program found in the README"
# The installed shunt.pc names where it will be (its prefix), not where it
# lies: a copy pointing here.
mkdir -p "$WORK/pc"
sed "s|^prefix=|prefix=$WORK/root|" "$pc" >"$WORK/pc/shunt.pc"
flags=$(PKG_CONFIG_PATH="$WORK/pc" pkg-config --cflags --libs shunt) ||
    fail "pkg-config cannot read the installed shunt.pc"
# shellcheck disable=SC2086
${SHUNT_CC:-cc} -Wall -Wextra -Werror -o "$WORK/app" "$WORK/app.c" $flags >"$WORK/cc.log" 2>&1 ||
    fail "the README's example does not build: $(cat "$WORK/cc.log")"
echo "ok: the README's example builds with \$(pkg-config --cflags --libs shunt)"

ip netns add "shunt-$TAG"
ip -n "shunt-$TAG" link set lo up
bg "$WORK/app.log" ip netns exec "shunt-$TAG" env SHUNT_KERNEL=1 \
    LD_LIBRARY_PATH="$(dirname "$lib")" "$WORK/app"
APP_PID=$BG_PID
for _ in $(seq 50); do
    ip netns exec "shunt-$TAG" ss -ltn | grep -q ":7 " && break
    sleep 0.1
done
out=$(ip netns exec "shunt-$TAG" sh -c 'echo hello | timeout 5 nc -q 1 127.0.0.1 7') ||
    fail "no echo from the example: $(cat "$WORK/app.log")"
[ "$out" = hello ] || fail "the example echoed '$out'"
rc=0
wait "$APP_PID" || rc=$?
[ $rc = 0 ] || fail "the example exited $rc: $(cat "$WORK/app.log")"
echo "ok: the example echoed and exited 0"
