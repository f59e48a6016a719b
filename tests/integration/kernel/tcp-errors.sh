#!/bin/bash
# tcp-errors.sh on the kernel path (see ../lib.sh)
SHUNT_PATH=kernel exec "$(dirname "$0")/../tcp-errors.sh"
