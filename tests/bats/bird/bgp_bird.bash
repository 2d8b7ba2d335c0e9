# SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
# Helpers for tests with BIRD 2 as the agents' router: one namespace with
# BIRD and a bridge, two agent namespaces on it (fd00:1::/64: BIRD ::1,
# agent A ::a, agent B ::b), BIRD started from a template in this folder
# with its own config, socket and pid file in the test's temp dir.  The
# agents are either iam-load (bb_agent, driven with iamctl and iam-client)
# or the speaker alone, tests/tools/bgp-speak (bb_speak, driven through a
# control FIFO).  Load tests/bats/lib.bash first; everything is removed by
# iam_cleanup.

BGP_SPEAK=$BUILD/tests/tools/bgp-speak
IAM_CLIENT=$BUILD/tests/tools/iam-client

# bb_fabric: sets NS_RR, NS_A, NS_B.
bb_fabric() {
	local x ns
	NS_RR=$(iam_ns bgprr) || return 1
	NS_A=$(iam_ns bgpa) || return 1
	NS_B=$(iam_ns bgpb) || return 1
	ip -n "$NS_RR" link add br0 type bridge || return 1
	ip -n "$NS_RR" link set br0 up
	for x in a b; do
		[ $x = a ] && ns=$NS_A || ns=$NS_B
		ip link add "v$x$IAM_RUN" netns "$NS_RR" type veth \
			peer name eth0 netns "$ns" || return 1
		ip -n "$NS_RR" link set "v$x$IAM_RUN" master br0 up
		ip -n "$ns" link set eth0 up
	done
	ip -n "$NS_RR" addr add fd00:1::1/64 dev br0 nodad
	ip -n "$NS_A" addr add fd00:1::a/64 dev eth0 nodad
	ip -n "$NS_B" addr add fd00:1::b/64 dev eth0 nodad
}

# bb_bird TEMPLATE [EXTRA]: BIRD from bird/TEMPLATE.conf.in; EXTRA goes
# into agent A's protocol block.
bb_bird() {
	sed -e "s|@LOG@|$IAM_TMP/bird.log|" -e "s|@A@|fd00:1::a|" \
		-e "s|@B@|fd00:1::b|" -e "s|@A_EXTRA@|${2:-}|" \
		"$IAM_TOP/tests/bats/bird/$1.conf.in" > "$IAM_TMP/bird.conf" || return 1
	iam_bg "$NS_RR" "$IAM_TMP/bird.out" bird -f -c "$IAM_TMP/bird.conf" \
		-s "$IAM_TMP/bird.sock" -P "$IAM_TMP/bird.pid" > /dev/null
	iam_wait_for 10 birdc -s "$IAM_TMP/bird.sock" show status
}

bb_birdc() {
	birdc -s "$IAM_TMP/bird.sock" "$@"
}

# ---- iam-load agents ----------------------------------------------------

# bb_agent NAME NS ARGS...: iam-load in NS on eth0, instance
# NAME-$IAM_RUN, log in $IAM_TMP/NAME.log; waits until its socket answers.
# Under `nsenter --net`, not `ip netns exec` (which mounts a /sys without
# bpffs, where the agent pins its maps).
bb_agent() {
	local name=$1 ns=$2
	shift 2
	# nsenter execs iam-load: $! is the agent itself.  The agent must
	# not hold bats' fd 3, or bats waits for it at the end of the test.
	nsenter --net=/run/netns/"$ns" "$IAM_LOAD" --dev eth0 \
		--instance "$name-$IAM_RUN" "$@" > "$IAM_TMP/$name.log" 2>&1 3>&- &
	echo $! > "$IAM_TMP/$name.pid"
	echo $! >> "$IAM_TMP/iam-pids"
	disown $!
	iam_wait_for 20 bb_ctl "$name" status ||
		{ sed 's/^/# /' "$IAM_TMP/$name.log"; return 1; }
}

# bb_agent_stop NAME: SIGTERM, then wait until the agent has exited.
bb_agent_stop() {
	local pid
	pid=$(cat "$IAM_TMP/$1.pid")
	kill -TERM "$pid" || return 1
	iam_wait_for 10 bash -c "! kill -0 $pid 2> /dev/null"
}

# bb_ctl NAME iamctl-args...  (the UNIX socket is the same in every
# network namespace)
bb_ctl() {
	local name=$1
	shift
	"$IAMCTL" -i "$name-$IAM_RUN" "$@"
}

# bb_status NAME JQ: one value of NAME's `iamctl status --json`.
bb_status() {
	bb_ctl "$1" status --json | jq -r "$2"
}

# bb_lender NAME PREFIX: NAME's view of the pool PREFIX, one line:
# "prefix M_i V_i block_size next_hop [as_path]", or nothing.
bb_lender() {
	bb_status "$1" ".lenders[] | select(.prefix == \"$2\") |
		\"\(.prefix) \(.total_blocks) \(.available_blocks) \(.block_size) \(.next_hop) \(.as_path | tojson)\""
}

# bb_client_start NAME AGENT NS ARGS...: a long-lived iam-client for
# AGENT in NS (lib.bash, iam_client_start); bb_client NAME CMD.
bb_client_start() {
	local name=$1 agent=$2 ns=$3
	shift 3
	iam_client_start "$name" "$ns" "$agent-$IAM_RUN" "$@"
}

bb_client() { iam_client "$@"; }

# ---- the speaker alone ----------------------------------------------------

# bb_speak NAME NS ARGS...: bgp-speak in NS; events and log in NAME.out.
bb_speak() {
	local name=$1 ns=$2
	shift 2
	mkfifo "$IAM_TMP/$name.ctl" || return 1
	iam_bg "$ns" "$IAM_TMP/$name.out" "$BGP_SPEAK" \
		--control "$IAM_TMP/$name.ctl" --connect-retry 1000 "$@" > /dev/null
}

# bb_cmd NAME COMMAND: one command to a speaker (bounded, should it be
# gone).
bb_cmd() {
	timeout 5 sh -c "echo '$2' > '$IAM_TMP/$1.ctl'"
}

# bb_wait NAME REGEX [TIMEOUT_S]: until NAME's output has a matching line.
bb_wait() {
	iam_wait_for "${3:-20}" grep -Eq -- "$2" "$IAM_TMP/$1.out" ||
		{ echo "# $1 never printed /$2/:"; sed 's/^/#   /' "$IAM_TMP/$1.out"; return 1; }
}
