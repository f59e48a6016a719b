#!/bin/bash
# udp-echo.sh on the shunt path (see ../lib.sh)
SHUNT_PATH=shunt exec "$(dirname "$0")/../udp-echo.sh"
