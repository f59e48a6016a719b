#!/bin/bash
# udp-echo.sh on the kernel path (see ../lib.sh)
SHUNT_PATH=kernel exec "$(dirname "$0")/../udp-echo.sh"
