#!/bin/bash
# tcp-keepalive.sh on the shunt path (see ../lib.sh)
SHUNT_PATH=shunt exec "$(dirname "$0")/../tcp-keepalive.sh"
