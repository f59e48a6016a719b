#!/bin/bash
# loss.sh - TCP through a lossy wire, byte-exact, every direction: the
# short version of scripts/bench-loss's matrix.  nftables on the peer's
# veth drops 1 % and then 5 % of the frames at random each way, and the
# kernel peer moves a stream through shunt-echo --one-way three ways:
# echoed (both ways at once), sent to Shunt, which checks it (--send), and
# sent by Shunt, which the peer checks (--receive).  Each must arrive whole
# and exact within a generous time; how long it takes is the benchmark's
# business, not this test's.  The server's counters must add up to what
# went through, and a stream that differs must be refused: the check can
# fail.
. "$(dirname "$0")/lib.sh"

command -v nft >/dev/null || { echo "$TEST_NAME: needs nft (apt-get install nftables)" >&2; exit 1; }

# Bytes per transfer at each loss rate: small enough for seconds.
declare -A BYTES=([1]=400000 [5]=100000)
TRANSFER_TIMEOUT=60

path_up
topo_wire "$TAG"        # drops a wire's both ways (scripts/testbed.sh)
echo_server --one-way

# transfer PCT ARGS...: one stream from the peer's shunt-echo client,
# verified, within TRANSFER_TIMEOUT.
transfer() {
    local pct=$1
    shift
    expect_ok "^shunt-echo: verified ${BYTES[$pct]} bytes over 1 connection" \
        timeout -k 5 "$TRANSFER_TIMEOUT" ip netns exec "shunt-$TAG" "$SHUNT_ECHO" --kernel \
        --client "$TOPO_SHUNT4" -n "${BYTES[$pct]}" "$@"
}

checked=0 sourced=0 echoed=0
for pct in 1 5; do
    topo_drop "$TAG" "$pct"
    echo "loss $pct % each way"
    transfer "$pct"
    transfer "$pct" --send
    transfer "$pct" --receive
    echoed=$((echoed + BYTES[$pct])) checked=$((checked + BYTES[$pct])) sourced=$((sourced + BYTES[$pct]))
    # The loss was real: nftables dropped frames (both ways together: one
    # way alone may be lucky at 1 %).
    dropped=$(peer nft list table netdev loss | grep -oE "packets [0-9]+" | awk '{ n += $2 } END { print n + 0 }')
    [ "$dropped" -gt 0 ] || fail "nftables dropped nothing: $(peer nft list table netdev loss)"
    echo "ok: nftables dropped $dropped frames"
done
topo_drop "$TAG" 0

# A stream that is not the pattern: the server says where it differs, and
# closes without the count that would confirm it.
peer /usr/bin/python3 -c "
import socket, struct, sys
s = socket.create_connection(('$TOPO_SHUNT4', 9), timeout=10)
s.sendall(struct.pack('>QQ', 1, 10) + bytes(10))
s.shutdown(socket.SHUT_WR)
try:
    answer = s.recv(8)
except ConnectionResetError:
    answer = b''
sys.exit('the server confirmed a wrong stream' if answer else 0)" ||
    fail "a stream that differs was not refused"
wait_for_line "$WORK/shunt.log" "the pattern differs at offset [0-9]+ \(of 10\)" 5 ||
    fail "the server did not say where the stream differs"
echo "ok: a stream that differs is refused: $(grep -E "the pattern differs" "$WORK/shunt.log")"

shunt_stop || fail "shunt-echo did not stop cleanly"
summary=$(server_summary)
grep -qE " $echoed bytes echoed, $checked checked, $sourced sourced;" <<<"$summary" ||
    fail "the server's counts do not add up to $echoed echoed, $checked checked, $sourced sourced: $summary"
grep -qE " 1 failed," <<<"$summary" || fail "the refused stream was not counted as failed: $summary"
echo "ok: $summary"
