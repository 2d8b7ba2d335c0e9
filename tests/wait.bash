# SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
# Waiting for a condition, shared by the bats tests (tests/bats/lib.bash),
# the demo fabric (tests/demo/fig1a.bash) and the guest's agents
# (tests/vm/agents.bash).  Polls every 0.1 s; on a timeout says what it
# last saw on stderr and fails.

# iam_wait_for TIMEOUT_S CMD...: retry CMD until it succeeds; after the
# timeout run it once more with its output shown, and return its status.
iam_wait_for() {
	local t=$1 i
	shift
	for ((i = 0; i < t * 10; i++)); do
		"$@" > /dev/null 2>&1 && return 0
		sleep 0.1
	done
	"$@"
}

# iam_wait_eq TIMEOUT_S EXPECTED CMD...: until CMD prints EXPECTED.
iam_wait_eq() {
	local t=$1 want=$2 got i
	shift 2
	for ((i = 0; i < t * 10; i++)); do
		got=$("$@" 2> /dev/null)
		[ "$got" = "$want" ] && return 0
		sleep 0.1
	done
	echo "# waited ${t}s for '$want', last: '$got' from: $*" >&2
	return 1
}
