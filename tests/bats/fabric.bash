# SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
# A small IAM fabric for the end-to-end tests: one LAN (a bridge in the
# router's namespace, 2001:db8:ff::/64), BIRD 2 on the router as an iBGP
# route reflector (RFC 4456), and hosts h1..hN, each with its own agent
# peering with the reflector.  Load after lib.bash; everything is removed by
# iam_cleanup.  Host i: namespace h$i-$IAM_RUN, address 2001:db8:ff::1$i,
# agent instance h$i-$IAM_RUN, net 2001:db8:$i, host a:$i, router id
# 10.0.0.$i, AS 65000.

FAB_AS=65000
FAB_LAN=2001:db8:ff

# fab_up N: the router, BIRD and N hosts (no agents yet).
fab_up() {
	local n=$1 i r
	r=$(iam_ns r) || return 1
	export FAB_R=$r
	ip -n "$r" link add br0 type bridge
	ip -n "$r" link set br0 up
	ip -n "$r" addr add $FAB_LAN::1/64 dev br0 nodad
	for ((i = 1; i <= n; i++)); do
		iam_ns h$i > /dev/null || return 1
		ip link add eth0 netns "h$i-$IAM_RUN" type veth peer name p$i netns "$r"
		ip -n "$r" link set p$i master br0 up
		ip -n "h$i-$IAM_RUN" link set eth0 up
		ip -n "h$i-$IAM_RUN" addr add $FAB_LAN::1$i/64 dev eth0 nodad
	done
	export FAB_DIR=$IAM_TMP/fabric
	mkdir -p "$FAB_DIR"
	{
		echo "router id 10.255.0.1;"
		echo "log \"$FAB_DIR/bird.log\" all;"
		echo "protocol device {}"
		echo "protocol direct { ipv6; interface \"br0\"; }"
		echo "template bgp rrc {"
		echo "  local $FAB_LAN::1 as $FAB_AS; rr client; direct;"
		echo "  ipv6 { import all; export all; gateway direct; };"
		echo "}"
		for ((i = 1; i <= n; i++)); do
			echo "protocol bgp h$i from rrc { neighbor $FAB_LAN::1$i as $FAB_AS; }"
		done
	} > "$FAB_DIR/bird.conf"
	iam_bg "$r" "$FAB_DIR/bird.out" bird -f -c "$FAB_DIR/bird.conf" \
		-s "$FAB_DIR/bird.ctl" -P "$FAB_DIR/bird.pid" > /dev/null
	iam_wait_for 10 test -S "$FAB_DIR/bird.ctl"
}

fab_ns() { echo "h$1-$IAM_RUN"; }
fab_inst() { echo "h$1-$IAM_RUN"; }

# Agents and iamctl run under `nsenter --net`, not `ip netns exec`: the
# latter mounts a private /sys without bpffs, and the pinned maps must be
# where bpftool and iamctl look for them.
fab_in() {
	local i=$1
	shift
	nsenter --net=/run/netns/"$(fab_ns $i)" "$@"
}

# fab_agent I [iam-load options...]: start host I's agent; waits until
# its socket answers.
fab_agent() {
	local i=$1
	shift
	# nsenter execs iam-load: $! is the agent's own pid.
	nsenter --net=/run/netns/"$(fab_ns $i)" "$IAM_LOAD" --dev eth0 \
		--instance "$(fab_inst $i)" \
		--net 2001:db8:$i --host a:$i --asn $FAB_AS \
		--router-id 10.0.0.$i --peer $FAB_LAN::1,as=$FAB_AS \
		"$@" > "$FAB_DIR/agent$i.log" 2>&1 3>&- &
	echo $! > "$FAB_DIR/agent$i.pid"
	disown $!
	echo $! >> "$IAM_TMP/iam-pids"
	iam_wait_for 20 fab_ctl $i status
}

fab_agent_pid() { cat "$FAB_DIR/agent$1.pid"; }

# fab_ctl I iamctl-args...
fab_ctl() {
	local i=$1
	shift
	fab_in $i "$IAMCTL" -i "$(fab_inst $i)" "$@"
}

fab_birdc() {
	ip netns exec "$FAB_R" birdc -s "$FAB_DIR/bird.ctl" "$@"
}

# fab_status I JQ: one value of host I's `iamctl status --json`.
fab_status() {
	fab_ctl $1 status --json | jq -r "$2"
}

# fab_client_start NAME HOST ARGS...: a long-lived iam-client on host
# HOST (lib.bash, iam_client_start); fab_client NAME CMD; fab_client_stop.
fab_client_start() {
	local name=$1 i=$2
	shift 2
	iam_client_start "$name" "$(fab_ns $i)" "$(fab_inst $i)" "$@"
}

fab_client() { iam_client "$@"; }
fab_client_stop() { iam_client_stop "$@"; }
