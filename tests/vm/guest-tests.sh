#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
# guest-tests.sh - the soft-RoCE test programs and the end-to-end borrow
# test over RDMA (borrow.bats), run inside the tests/vm guest
# (tests/vm/run.sh boots it).  Prints the programs' TAP as it comes;
# run.sh numbers the lines and writes the plan.  A program that dies or
# falls short of its own plan without a "not ok" gets one here.
set -u
BUILD=${BUILD:-build}
: "${IAM_VM:?run me through tests/vm/vm.sh}"

# prog NAME TIMEOUT CMD...
prog() {
	local name=$1 to=$2 out rc plan seen
	shift 2
	out=/tmp/tap.$name
	timeout -k 5 "$to" "$@" 2>&1 | tee "$out"
	rc=${PIPESTATUS[0]}
	plan=$(grep -Em1 '^1\.\.[0-9]+' "$out" | cut -d. -f3)
	seen=$(grep -Ec '^(not )?ok ' "$out")
	if grep -q '^not ok ' "$out"; then
		return
	elif [ -n "$plan" ] && [ "$seen" -lt "$plan" ]; then
		echo "not ok - $name: planned $plan tests, saw $seen (status $rc)"
	elif [ "$rc" -ne 0 ]; then
		[ "$rc" -eq 124 ] && echo "not ok - $name: timed out after ${to}s" ||
			echo "not ok - $name: exited with status $rc"
	fi
}

prog test_rdma 240 "$BUILD/tests/vm/test_rdma"
prog test_rdma_fault 240 "$BUILD/tests/vm/test_rdma_fault"
prog borrow.bats 300 bats --tap tests/vm/borrow.bats
exit 0
