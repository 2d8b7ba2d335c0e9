# SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
# Shared helpers for the bats tests: throwaway network namespaces, veth pairs
# and agents, all removed by iam_cleanup (call it from teardown) even when a
# test fails half-way.  Every name carries a per-run suffix, so two runs on
# one machine do not collide.  Only documentation (2001:db8::/32) and ULA
# (fd00::/8) addresses are used.

IAM_TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BUILD=${BUILD:-build}
case $BUILD in /*) ;; *) BUILD=$IAM_TOP/$BUILD ;; esac
IAM_LOAD=$BUILD/iam-load
IAMCTL=$BUILD/iamctl
IAM_BENCH=$BUILD/iam-bench
# A short suffix unique to this bats process (names are limited to 15
# characters for interfaces).
export IAM_RUN=${IAM_RUN:-$(printf "%04x" $(($$ % 65536)))}
IAM_TMP=${IAM_TMP:-${BATS_TEST_TMPDIR:-/tmp}}

iam_netns_list=()
iam_pid_list=()

# iam_ns NAME: create namespace NAME-$IAM_RUN (lo up); prints its name.
iam_ns() {
	local ns=$1-$IAM_RUN
	ip netns add "$ns" || return 1
	ip -n "$ns" link set lo up
	ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.accept_dad=0 \
		net.ipv6.conf.default.accept_dad=0 net.ipv6.conf.all.forwarding=1
	echo "$ns" >> "$IAM_TMP/iam-netns"
	echo "$ns"
}

# iam_veth NS1 IF1 NS2 IF2: a veth pair between two namespaces, both up.
iam_veth() {
	ip link add "$2" netns "$1" type veth peer name "$4" netns "$3" || return 1
	ip -n "$1" link set "$2" up
	ip -n "$3" link set "$4" up
}

# iam_bg NS LOG CMD...: start CMD in namespace NS in the background, output to
# LOG; records the pid for cleanup and prints it.
iam_bg() {
	local ns=$1 log=$2
	shift 2
	ip netns exec "$ns" "$@" > "$log" 2>&1 3>&- &
	echo $! >> "$IAM_TMP/iam-pids"
	echo $!
}

# iam_wait_for, iam_wait_eq
. "$IAM_TOP/tests/wait.bash"

# A libiam client that lives across commands (tests/tools/iam-client):
# iam_client_start NAME NS INSTANCE ARGS... starts it in namespace NS,
# reading commands from a FIFO kept open by a holder, and prints its first
# line (ready ... or alloc-failed ...); iam_client NAME CMD sends one
# command and prints the answer; iam_client_stop NAME ends it.  Files:
# $IAM_TMP/NAME.{in,out,pid,holder}.  Background processes close bats'
# fd 3 and keep stderr off bats' pipes, or bats waits for them.
iam_client_start() {
	local name=$1 ns=$2 inst=$3
	shift 3
	mkfifo "$IAM_TMP/$name.in" || return 1
	nsenter --net=/run/netns/"$ns" "$BUILD/tests/tools/iam-client" \
		-i "$inst" "$@" < "$IAM_TMP/$name.in" > "$IAM_TMP/$name.out" \
		2>&1 3>&- &
	echo $! > "$IAM_TMP/$name.pid"
	echo $! >> "$IAM_TMP/iam-pids"
	sleep infinity > "$IAM_TMP/$name.in" 2> /dev/null 3>&- &
	echo $! >> "$IAM_TMP/iam-pids"
	echo $! > "$IAM_TMP/$name.holder"
	iam_wait_for 30 grep -Eq '^(ready|alloc-failed)' "$IAM_TMP/$name.out"
	head -n 1 "$IAM_TMP/$name.out"
}

iam_lines_over() { [ "$(wc -l < "$1")" -gt "$2" ]; }

iam_client() {
	local name=$1 n
	shift
	n=$(wc -l < "$IAM_TMP/$name.out")
	echo "$*" > "$IAM_TMP/$name.in"
	# The line count is taken at every try, not once.
	iam_wait_for 60 iam_lines_over "$IAM_TMP/$name.out" "$n"
	tail -n 1 "$IAM_TMP/$name.out"
}

iam_client_stop() {
	local pid
	pid=$(cat "$IAM_TMP/$1.pid")
	# End of input: the client exits (the agent frees what is left).
	kill "$(cat "$IAM_TMP/$1.holder")" 2> /dev/null
	iam_wait_for 10 bash -c "! kill -0 $pid 2> /dev/null"
}

# iam_cleanup: kill what iam_bg started, delete the namespaces.
iam_cleanup() {
	local p ns
	if [ -f "$IAM_TMP/iam-pids" ]; then
		while read -r p; do kill -TERM "$p" 2> /dev/null; done < "$IAM_TMP/iam-pids"
		sleep 0.2
		while read -r p; do kill -KILL "$p" 2> /dev/null; done < "$IAM_TMP/iam-pids"
		rm -f "$IAM_TMP/iam-pids"
	fi
	if [ -f "$IAM_TMP/iam-netns" ]; then
		while read -r ns; do
			# Processes still inside (a test's own children) go first.
			ip netns pids "$ns" 2> /dev/null | xargs -r kill -KILL 2> /dev/null
			ip netns del "$ns" 2> /dev/null
		done < "$IAM_TMP/iam-netns"
		rm -f "$IAM_TMP/iam-netns"
	fi
	# What an agent killed with -9 leaves: its pins and run files.
	rm -rf /sys/fs/bpf/iam/*"$IAM_RUN" 2> /dev/null
	rm -f /run/iam/*"$IAM_RUN".* 2> /dev/null
	true
}
