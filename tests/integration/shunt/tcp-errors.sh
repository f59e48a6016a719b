#!/bin/bash
# tcp-errors.sh on the shunt path (see ../lib.sh)
SHUNT_PATH=shunt exec "$(dirname "$0")/../tcp-errors.sh"
