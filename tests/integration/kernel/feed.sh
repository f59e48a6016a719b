#!/bin/bash
# feed.sh on the kernel path (see ../lib.sh)
SHUNT_PATH=kernel exec "$(dirname "$0")/../feed.sh"
