#!/bin/bash
# tcp-echo.sh on the kernel path (see ../lib.sh)
SHUNT_PATH=kernel exec "$(dirname "$0")/../tcp-echo.sh"
