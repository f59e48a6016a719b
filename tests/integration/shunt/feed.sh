#!/bin/bash
# feed.sh on the shunt path (see ../lib.sh)
SHUNT_PATH=shunt exec "$(dirname "$0")/../feed.sh"
