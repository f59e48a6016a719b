#!/bin/bash
# tcp-echo.sh on the shunt path (see ../lib.sh)
SHUNT_PATH=shunt exec "$(dirname "$0")/../tcp-echo.sh"
