#!/bin/bash
# instances-tap.sh - instances.sh on a shared port: net_tap with two
# queues, instance 0 DPDK's primary and instance 1 its secondary.
GROUP_PORT=tap . "$(dirname "$0")/instances.sh"
