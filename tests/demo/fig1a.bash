# SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
# A small leaf-spine fabric as in FIG. 1A of US 11,675,510, in network
# namespaces, for the demo (tests/demo/demo.sh), its bats test and the
# benchmark plot (tests/bench/plot.sh).
#
#                      spine  AS 65000
#                     /               \
#          leaf1  AS 65001          leaf2  AS 65002
#           /          \              /          \
#     h1 AS 65101  h2 AS 65102  h3 AS 65103  h4 AS 65104
#
# The switches are BIRD 2 routers, every session eBGP (the data-centre
# layout of RFC 7938: one AS per leaf, one per host): BIRD rewrites the
# next hop to its own address on every hop and installs what it learns in
# its namespace's kernel table, so packets between hosts on different
# leaves go host -> leaf -> spine -> leaf -> host.  Each host runs one
# iam-load, which peers with its leaf and installs the IAM routes it
# learns (pools, allocations, agent addresses) as kernel routes.
#
# Names: namespaces $FIG_NAME-spine, -leaf1, -leaf2, -h1..-h4; agent
# instances $FIG_NAME-h1..-h4.  Files (configs, logs, BIRD sockets) live
# in $FIG_DIR.  Addresses (documentation and ULA space only):
#
#   spine - leafL   fd00:0:L::/64    spine ::1, leaf ::2
#   leafL - host i  fd00:L:i::/64    leaf ::1, host ::2
#   agent of host i net 2001:db8:L, host part a:i: its /80 is
#                   2001:db8:L:a:i::/80, its own address 2001:db8:L:a:i::1
#
# Set FIG_NAME, FIG_DIR and BUILD (absolute), then source this file.

: "${FIG_NAME:?}" "${FIG_DIR:?}" "${BUILD:?}"
FIG_HOSTS=(1 2 3 4)
FIG_ROUTERS=(spine leaf1 leaf2)

fig_leaf_of() { echo $((($1 + 1) / 2)); }
fig_ns() { echo "$FIG_NAME-$1"; }
fig_inst() { echo "$FIG_NAME-h$1"; }
fig_as() { echo $((65100 + $1)); }
fig_net() { echo "2001:db8:$(fig_leaf_of $1)"; }
fig_agent_addr() { echo "$(fig_net $1):a:$1::1"; }
fig_host_link() { echo "fd00:$(fig_leaf_of $1):$1::2"; }
fig_leaf_link() { echo "fd00:$(fig_leaf_of $1):$1::1"; }

# Run a command in host I's namespace.  nsenter --net, not `ip netns
# exec`: the latter mounts a private /sys without bpffs, and the agents'
# pinned maps must be where bpftool and iamctl look for them.
fig_in() {
	local i=$1
	shift
	nsenter --net=/run/netns/"$(fig_ns h$i)" "$@"
}

fig_ctl() {
	local i=$1
	shift
	fig_in $i "$BUILD/iamctl" -i "$(fig_inst $i)" "$@"
}

# fig_birdc ROUTER birdc-args...
fig_birdc() {
	local r=$1
	shift
	ip netns exec "$(fig_ns $r)" birdc -s "$FIG_DIR/$r.ctl" "$@"
}

fig_status() {
	fig_ctl $1 status --json | jq -r "$2"
}

# iam_wait_for, iam_wait_eq
. "$(dirname "${BASH_SOURCE[0]}")/../wait.bash"

fig_newns() {
	local ns
	ns=$(fig_ns $1)
	ip netns add "$ns" || return 1
	echo "$ns" >> "$FIG_DIR/netns"
	ip -n "$ns" link set lo up
	# Routers forward; nobody waits for duplicate address detection.
	ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.forwarding=1 \
		net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0
}

# fig_link NS1 IF1 ADDR1 NS2 IF2 ADDR2 (addresses /64)
fig_link() {
	ip link add "$2" netns "$(fig_ns $1)" type veth peer name "$5" \
		netns "$(fig_ns $4)" || return 1
	ip -n "$(fig_ns $1)" addr add "$3/64" dev "$2" nodad
	ip -n "$(fig_ns $4)" addr add "$6/64" dev "$5" nodad
	ip -n "$(fig_ns $1)" link set "$2" up
	ip -n "$(fig_ns $4)" link set "$5" up
}

# The BIRD configuration of router R (spine, leaf1, leaf2).
fig_bird_conf() {
	local r=$1 l i
	echo "# $r of the FIG. 1A demo fabric (tests/demo/fig1a.bash)"
	case $r in
	spine) echo "router id 10.255.0.1;" ;;
	leaf*) echo "router id 10.255.${r#leaf}.1;" ;;
	esac
	cat << EOF
log "$FIG_DIR/$r.log" all;
protocol device { }
# Put what BGP learns into this namespace's kernel table: the packets are
# forwarded by the kernel, not by BIRD.
protocol kernel { ipv6 { export where source = RTS_BGP; }; }
# Short timers so the demo converges in seconds (defaults are for WANs).
template bgp fabric {
	hold time 9; keepalive time 3;
	connect delay time 1; connect retry time 2; error wait time 1, 4;
	ipv6 { import all; export all; };
}
EOF
	case $r in
	spine)
		for l in 1 2; do
			echo "protocol bgp leaf$l from fabric { local as 65000; neighbor fd00:0:$l::2 as $((65000 + l)); }"
		done
		;;
	leaf*)
		l=${r#leaf}
		echo "protocol bgp spine from fabric { local as $((65000 + l)); neighbor fd00:0:$l::1 as 65000; }"
		for i in "${FIG_HOSTS[@]}"; do
			[ "$(fig_leaf_of $i)" = "$l" ] || continue
			echo "protocol bgp h$i from fabric { local as $((65000 + l)); neighbor $(fig_host_link $i) as $(fig_as $i); }"
		done
		;;
	esac
}

# fig_up: namespaces, links, addresses and the three BIRD routers (no
# agents yet); waits until the leaf-spine sessions are up.
fig_up() {
	local r l i ns
	mkdir -p "$FIG_DIR" || return 1
	for r in "${FIG_ROUTERS[@]}"; do
		fig_newns $r || return 1
	done
	for i in "${FIG_HOSTS[@]}"; do
		fig_newns h$i || return 1
	done
	for l in 1 2; do
		fig_link spine leaf$l fd00:0:$l::1 leaf$l spine fd00:0:$l::2 || return 1
	done
	for i in "${FIG_HOSTS[@]}"; do
		fig_link "leaf$(fig_leaf_of $i)" h$i "$(fig_leaf_link $i)" \
			h$i eth0 "$(fig_host_link $i)" || return 1
	done
	for r in "${FIG_ROUTERS[@]}"; do
		ns=$(fig_ns $r)
		fig_bird_conf $r > "$FIG_DIR/$r.conf"
		# BIRD daemonizes; its pid is in the pid file and, like every
		# process here, found again by `ip netns pids` at teardown.
		ip netns exec "$ns" bird -c "$FIG_DIR/$r.conf" \
			-s "$FIG_DIR/$r.ctl" -P "$FIG_DIR/$r.pid" \
			> "$FIG_DIR/$r.out" 2>&1 < /dev/null 3>&- || return 1
	done
	for l in 1 2; do
		iam_wait_for 30 fig_bird_established leaf$l spine || return 1
	done
}

# fig_bird_established ROUTER PROTOCOL
fig_bird_established() {
	fig_birdc $1 show protocols "$2" | grep -q Established
}

# fig_write_conf I OPTION-LINES: host I's iam-load config file (the
# CONFIGURATION FILE format of iam-load(8)); prints its path.
fig_write_conf() {
	local i=$1 f=$FIG_DIR/h$1.conf
	shift
	{
		echo "# iam-load configuration of h$i (see iam-load(8))"
		echo "instance   $(fig_inst $i)"
		echo "dev        eth0"
		echo "net        $(fig_net $i)"
		echo "host       a:$i"
		echo "asn        $(fig_as $i)"
		echo "router-id  10.0.$(fig_leaf_of $i).$i"
		echo "peer       $(fig_leaf_link $i),as=$((65000 + $(fig_leaf_of $i)))"
		printf '%s\n' "$@"
	} > "$f"
	echo "$f"
}

# fig_agent I OPTION-LINES: start host I's agent from a config file;
# waits until it answers on its socket.
fig_agent() {
	local i=$1 conf
	shift
	conf=$(fig_write_conf $i "$@")
	# setsid: the agents live on after the script (KEEP=1) and do not
	# get the terminal's Ctrl-C, which is the script's to handle.
	# setsid and nsenter exec, so $! is the agent's own pid.
	setsid nsenter --net=/run/netns/"$(fig_ns h$i)" "$BUILD/iam-load" \
		--config "$conf" > "$FIG_DIR/h$i.log" 2>&1 < /dev/null 3>&- &
	echo $! > "$FIG_DIR/h$i.pid"
	iam_wait_for 20 fig_ctl $i status || {
		echo "agent h$i did not start; its log:" >&2
		sed 's/^/    /' "$FIG_DIR/h$i.log" >&2
		return 1
	}
}

# fig_down: stop everything in the fabric's namespaces (SIGTERM, then
# SIGKILL for what is left after a few seconds), delete them and whatever
# a killed agent left behind.  Works from the namespace names alone, so
# it also cleans up after a run whose shell is gone (make demo-down).
fig_down() {
	local ns pids p i t inst
	local -a all=()
	for ns in $(ip netns list 2> /dev/null | awk '{print $1}'); do
		case $ns in "$FIG_NAME"-*) all+=("$ns") ;; esac
	done
	for ns in "${all[@]}"; do
		pids=$(ip netns pids "$ns" 2> /dev/null)
		[ -n "$pids" ] && kill -TERM $pids 2> /dev/null
	done
	# Agents withdraw their routes and return blocks before they exit.
	for ((t = 0; t < 50; t++)); do
		pids=
		for ns in "${all[@]}"; do
			pids+=$(ip netns pids "$ns" 2> /dev/null)
		done
		[ -z "$pids" ] && break
		sleep 0.1
	done
	for ns in "${all[@]}"; do
		for p in $(ip netns pids "$ns" 2> /dev/null); do
			kill -KILL "$p" 2> /dev/null
		done
		ip netns del "$ns" 2> /dev/null
	done
	for i in "${FIG_HOSTS[@]}"; do
		inst=$(fig_inst $i)
		rm -rf "/sys/fs/bpf/iam/$inst"
		rm -f "/run/iam/$inst.sock" "/run/iam/$inst.routes" \
			"/run/iam/$inst.lock"
	done
	rm -f "$FIG_DIR/netns"
	[ ${#all[@]} -gt 0 ]
}
