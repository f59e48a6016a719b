#!/bin/bash
# tcp-keepalive.sh on the kernel path (see ../lib.sh)
SHUNT_PATH=kernel exec "$(dirname "$0")/../tcp-keepalive.sh"
