#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
# The IAM demo (`make demo`): a FIG. 1A leaf-spine fabric in network
# namespaces, four agents lending memory, one host borrowing it, and what
# every part of the system shows along the way.
#
#   tests/demo/demo.sh            run, print each step, tear down
#   KEEP=1 tests/demo/demo.sh     leave the fabric up to explore
#   tests/demo/demo.sh --down     remove a fabric left up by KEEP=1
#
# Environment: BUILD (default build), KEEP, DEMO_NAME (namespace and
# instance prefix, default iamdemo), DEMO_DIR (configs, logs, BIRD
# sockets; default $BUILD/demo), DEMO_SIZE (the borrowed region, 16M).
# Needs root.  Exit status: 0 when every step checked out, 1 otherwise.
set -u -o pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${BUILD:-build}
case $BUILD in /*) ;; *) BUILD=$top/$BUILD ;; esac
FIG_NAME=${DEMO_NAME:-iamdemo}
FIG_DIR=${DEMO_DIR:-$BUILD/demo}
KEEP=${KEEP:-}
[ "$KEEP" = 0 ] && KEEP=
SIZE=${DEMO_SIZE:-16M}
. "$top/tests/demo/fig1a.bash"

if [ -t 1 ]; then
	B=$'\e[1m' G=$'\e[32m' R=$'\e[31m' N=$'\e[0m'
else
	B='' G='' R='' N=''
fi
step_no=0
nsteps=10
t0=${EPOCHREALTIME/./}

# Seconds since the start, one decimal.
elapsed() {
	local us=$((${EPOCHREALTIME/./} - t0))
	printf '%3d.%ds' $((us / 1000000)) $((us / 100000 % 10))
}
step() {
	step_no=$((step_no + 1))
	printf '\n%s[%s] step %d/%d: %s%s\n' "$B" "$(elapsed)" $step_no $nsteps "$*" "$N"
}
say() { printf '  %s\n' "$*"; }
ok() { printf '  %sok%s  %s\n' "$G" "$N" "$*"; }
# show TEXT CMD...: print TEXT, the command as a person would type it,
# then run CMD with its output indented.
show() {
	printf '  $ %s\n' "$1"
	shift
	"$@" 2>&1 | sed 's/^/    /'
	return "${PIPESTATUS[0]}"
}
die() {
	printf '  %sFAILED%s  %s\n' "$R" "$N" "$*" >&2
	exit 1
}

# What a person types to run iamctl in host I (nsenter keeps bpffs).
ctl_cmd() { echo "nsenter --net=/run/netns/$(fig_ns h$1) $BUILD/iamctl -i $(fig_inst $1)"; }
birdc_cmd() { echo "ip netns exec $(fig_ns $1) birdc -s $FIG_DIR/$1.ctl"; }

if [ "${1:-}" = --down ]; then
	if fig_down; then
		echo "demo: removed the namespaces $FIG_NAME-* and their agents"
	else
		echo "demo: nothing to remove (no namespace $FIG_NAME-*)"
	fi
	exit 0
fi
[ $# -eq 0 ] || { echo "usage: $0 [--down]" >&2; exit 2; }
[ "$(id -u)" = 0 ] || { echo "demo: needs root (namespaces, XDP, mlock)" >&2; exit 1; }
for t in bird birdc jq bpftool ping nsenter setsid; do
	command -v $t > /dev/null ||
		{ echo "demo: $t is missing; run tools/deps.sh (make deps)" >&2; exit 1; }
done
for t in iam-load iamctl iam-bench; do
	[ -x "$BUILD/$t" ] || { echo "demo: $BUILD/$t is missing; run make" >&2; exit 1; }
done

finished=
teardown() {
	local rc=$?
	trap - EXIT INT TERM
	[ -n "${holder:-}" ] && kill "$holder" 2> /dev/null
	if [ -z "$finished" ]; then
		echo
		if [ -n "$KEEP" ]; then
			echo "demo: stopped early; KEEP=1 leaves what is up for a look (logs in $FIG_DIR)."
			echo "demo: remove it with: make demo-down"
			exit 1
		fi
		echo "demo: stopped early; logs in $FIG_DIR; tearing down"
		[ -f "$FIG_DIR/h1.log" ] && { echo "  last lines of h1's agent log:"; tail -n 5 "$FIG_DIR/h1.log" | sed 's/^/    /'; }
	fi
	if [ -z "$KEEP" ]; then
		printf '\n%s[%s] teardown%s\n' "$B" "$(elapsed)" "$N"
		fig_down > /dev/null
		say "agents stopped, namespaces $FIG_NAME-* removed"
	fi
	[ -n "$finished" ] && printf '%sdemo finished in %s%s\n' "$B" "$(elapsed | tr -d ' ')" "$N"
	exit $rc
}
trap teardown EXIT
trap 'echo; echo "demo: interrupted"; exit 130' INT TERM

printf '%sIAM demo: hosts lend and borrow memory over a leaf-spine IPv6 fabric%s\n' "$B" "$N"
if fig_down > /dev/null; then
	say "(removed the previous demo's namespaces $FIG_NAME-*)"
fi
rm -rf "$FIG_DIR"
mkdir -p "$FIG_DIR"

# ---------------------------------------------------------------------------
step "the fabric of FIG. 1A in network namespaces, BIRD 2 as the switches"
cat << EOF
                          spine  AS 65000
                   fd00:0:1::/64     fd00:0:2::/64
                     /                        \\
          leaf1  AS 65001                   leaf2  AS 65002
          /             \\                   /             \\
   fd00:1:1::/64   fd00:1:2::/64      fd00:2:3::/64   fd00:2:4::/64
        |               |                  |               |
  h1  AS 65101    h2  AS 65102       h3  AS 65103    h4  AS 65104
  agent 2001:db8:1:a:1::1  ...  (net 2001:db8:LEAF, host part a:HOST)

  Every BGP session is eBGP (RFC 7938): BIRD rewrites the next hop on each
  hop and puts what it learns into its namespace's kernel table.
EOF
fig_up || die "the fabric did not come up (BIRD logs in $FIG_DIR)"
for l in 1 2; do
	ok "leaf$l <-> spine: BGP Established"
done

# ---------------------------------------------------------------------------
step "one agent (iam-load) per host, each lending a pool and peering with its leaf"
fig_agent 1 "pool         4M" "local-budget 1M" "cache        2M" || die "h1's agent did not start"
for i in 2 3 4; do
	fig_agent $i "pool         8M" "cache        1M" || die "h$i's agent did not start"
done
say "h1 lends 4M (and may use 1M of it itself), h2..h4 lend 8M each; blocks of 64K."
say "Each agent reads a config file (iam-load(8), CONFIGURATION FILE); h1's:"
sed 's/^/    /' "$FIG_DIR/h1.conf"
say "and is started in its namespace as"
say "  nsenter --net=/run/netns/$(fig_ns h1) $BUILD/iam-load --config $FIG_DIR/h1.conf"
for i in 1 2 3 4; do
	iam_wait_for 30 fig_bird_established "leaf$(fig_leaf_of $i)" h$i ||
		die "h$i's BGP session with leaf$(fig_leaf_of $i) did not come up"
	ok "h$i: agent $(fig_agent_addr $i) up, BGP session with leaf$(fig_leaf_of $i) Established"
done

# ---------------------------------------------------------------------------
step "who lends: each agent announces its pool prefix with M_i, V_i and the block size"
M=0
for i in 1 2 3 4; do
	M=$((M + $(fig_status $i .own_total_blocks)))
done
printf '  %-4s %-20s %-28s %6s %6s %6s\n' host "agent address" "pool prefix (FIG. 2)" M_i V_i block
for i in 1 2 3 4; do
	fig_ctl $i status --json | jq -r --arg h h$i \
		'[$h, .agent_address, .pool_prefix, .own_total_blocks, .own_available_blocks, (.block_size / 1024 | tostring + "K")] | @tsv' |
		awk -F'\t' '{ printf "  %-4s %-20s %-28s %6s %6s %6s\n", $1, $2, $3, $4, $5, $6 }'
done
say "M_i, V_i and log2(block size) ride in BGP large communities (AS, 1|2|3, value):"
pool2=$(fig_status 2 .pool_prefix)
show "$(birdc_cmd spine) show route all $pool2" fig_birdc spine show route all "$pool2"

# ---------------------------------------------------------------------------
step "M and V: every agent sums the pools it learned through BGP"
for i in 1 2 3 4; do
	iam_wait_eq 30 $M fig_status $i .total_blocks ||
		die "h$i does not see M = $M"
	iam_wait_eq 30 $M fig_status $i .available_blocks ||
		die "h$i does not see V = $M"
	ok "h$i sees M = $M blocks, V = $M blocks, $(fig_status $i '.lenders | length') lenders"
done
say "h1's view of the lenders (AS path: h2 is 2 AS hops away, h3 and h4 are 4):"
printf '  $ %s lenders\n' "$(ctl_cmd 1)"
fig_ctl 1 lenders | sed 's/^/    /'

# ---------------------------------------------------------------------------
step "reachability: every host routes to every other agent's address and pool, via the spine"
printf '  %-9s' from\\to
for j in 1 2 3 4; do printf '%-6s' h$j; done
echo
for i in 1 2 3 4; do
	printf '  %-9s' h$i
	for j in 1 2 3 4; do
		if [ $i = $j ]; then
			printf '%-6s' -
			continue
		fi
		pool=$(fig_status $j .pool_prefix)
		fig_in $i ip -6 route show "$pool" | grep -q via ||
			die "h$i has no route to h$j's pool $pool"
		fig_in $i ping -c 1 -W 2 -I "$(fig_agent_addr $i)" "$(fig_agent_addr $j)" > /dev/null ||
			die "h$i cannot ping h$j's agent $(fig_agent_addr $j)"
		printf '%-6s' ok
	done
	echo
done
say "(ok: a kernel route to the pool, installed by the agent from BGP, and a"
say " ping between the agent addresses; h1 -> h3 crosses leaf1, spine, leaf2)"
say "h1's kernel routes from its agent (protocol 241), all via leaf1's link-local address:"
show "ip -n $(fig_ns h1) -6 route show proto 241" fig_in 1 ip -6 route show proto 241

# ---------------------------------------------------------------------------
step "h1 borrows $SIZE with iam-bench: more than its local budget (1M) and cache (2M)"
mkfifo "$FIG_DIR/bench.in"
# The holder keeps iam-bench's input open, so it keeps the region after
# measuring (--hold) until the holder goes; both live in h1's namespace.
setsid nsenter --net=/run/netns/"$(fig_ns h1)" sleep infinity > "$FIG_DIR/bench.in" 2> /dev/null 3>&- &
holder=$!
echo $holder > "$FIG_DIR/hold.pid"
setsid nsenter --net=/run/netns/"$(fig_ns h1)" "$BUILD/iam-bench" -i "$(fig_inst 1)" \
	--size "$SIZE" --hold < "$FIG_DIR/bench.in" > "$FIG_DIR/bench.out" 2>&1 3>&- &
bench=$!
say "$ nsenter --net=/run/netns/$(fig_ns h1) $BUILD/iam-bench -i $(fig_inst 1) --size $SIZE --hold"
say "  (writes every page, reads them all back: pages beyond the 2M cache are evicted"
say "   to the lenders and fault back in over the network)"
bench_done() {
	grep -q "holding the region until" "$FIG_DIR/bench.out" ||
		! kill -0 "$bench" 2> /dev/null
}
iam_wait_for 60 bench_done
grep -q "holding the region until" "$FIG_DIR/bench.out" ||
	{ sed 's/^/    /' "$FIG_DIR/bench.out"; die "iam-bench failed (its output is above)"; }
sed 's/^/    /' "$FIG_DIR/bench.out"
grep -q "^verified: every byte" "$FIG_DIR/bench.out" || die "iam-bench found wrong bytes"
ok "every byte read back as written"

# ---------------------------------------------------------------------------
step "the allocation: local blocks first, then lenders by AS hops and available blocks"
printf '  $ %s allocations\n' "$(ctl_cmd 1)"
fig_ctl 1 allocations | sed 's/^/    /'
for j in 2 3 4; do
	n=$(fig_ctl $j allocations --json | jq '[.allocations[] | select(.role == "lent") | .blocks] | add // 0')
	say "h$j lends $n blocks to h1"
done
used=$(fig_ctl 1 allocations --json | jq '[.allocations[] | .blocks] | add')
for i in 1 2 3 4; do
	iam_wait_eq 10 $((M - used)) fig_status $i .available_blocks ||
		die "h$i does not see V drop by $used"
done
ok "every agent now sees V = $((M - used)) (M = $M): the lenders re-announced V_i"

# ---------------------------------------------------------------------------
step "the allocation prefixes as BGP carries them (BIRD on the spine)"
set_expr=$(printf '(%s, 10, *), ' 65101 65102 65103 65104)
set_expr="[${set_expr%, }]"
say "$ $(birdc_cmd spine) show route all where bgp_large_community ~ $set_expr"
fig_birdc spine show route all where bgp_large_community "~" "$set_expr" | sed 's/^/    /'
rid=$(fig_status 1 .router_id)
IFS=. read -r a b c d <<< "$rid"
bid=$(((a << 24) + (b << 16) + (c << 8) + d))
say "(AS, 10, $bid): borrower id = $rid, h1's router id; (AS, 11, 2): read-write."
say "h2 lends its whole pool: that allocation goes out as the pool's two halves, so"
say "it never replaces the pool route that carries M_i and V_i."
fig_birdc spine show route all | grep -q "10, $bid)" ||
	die "BIRD has no allocation route with borrower $bid"
ok "the allocations are in BIRD with h1 as borrower"

# ---------------------------------------------------------------------------
step "the mem-to-ip table (FIG. 3): h1's virtual blocks -> block IPv6 address, lender"
printf '  $ %s map\n' "$(ctl_cmd 1)"
fig_ctl 1 map > "$FIG_DIR/map.txt"
{ head -n 4 "$FIG_DIR/map.txt"; echo "  ..."; tail -n 3 "$FIG_DIR/map.txt"; } | sed 's/^/    /'
slot=$(fig_ctl 1 map --json | jq '[.entries[] | select((.flags | index("local")) | not)] | last | .slot')
pin=/sys/fs/bpf/iam/$(fig_inst 1)/mem_to_ip
say "The same table is a BPF array map pinned in bpffs; slot $slot with bpftool:"
key="$((slot & 255)) $((slot >> 8 & 255)) 0 0"
show "bpftool map lookup pinned $pin key $key" bpftool map lookup pinned "$pin" key $key ||
	die "bpftool cannot read $pin"
say "(block and lender are the IPv6 addresses' 16 bytes: 32,1,13,184 = 2001:db8;"
say " remote_addr = the block address << 16, FIG. 2: the lender needs nothing else."
say " bpftool map dump pinned $pin prints all $(fig_ctl 1 map --json | jq .slots) slots.)"

# ---------------------------------------------------------------------------
if [ -n "$KEEP" ]; then
	step "KEEP=1: the fabric stays up, and h1's iam-bench keeps its region"
	holder=
	finished=1
	cat << EOF

${B}The demo fabric stays up.  Things to try:${N}
  $(ctl_cmd 1) status
  $(ctl_cmd 1) allocations
  $(ctl_cmd 1) map
  $(ctl_cmd 2) stats
  $(ctl_cmd 2) peers
  bpftool map dump pinned /sys/fs/bpf/iam/$(fig_inst 1)/mem_to_ip | less
  $(birdc_cmd spine) show route all
  $(birdc_cmd leaf1) show protocols
  nsenter --net=/run/netns/$(fig_ns h1) $BUILD/iam-bench -i $(fig_inst 1) --size 8M --pattern random
  kill \$(cat $FIG_DIR/hold.pid)      # h1's first iam-bench frees its region
Agent logs and configs: $FIG_DIR/h*.log, $FIG_DIR/h*.conf
Remove everything with: make demo-down
EOF
	exit 0
fi
step "free: the lenders zero the blocks, withdraw the prefixes and re-announce V_i"
kill "$holder"
holder=
wait "$bench" 2> /dev/null
for i in 1 2 3 4; do
	iam_wait_eq 15 $M fig_status $i .available_blocks ||
		die "h$i does not see V back at $M"
done
ok "every agent sees V = M = $M again"
iam_wait_eq 15 0 bash -c "ip netns exec $(fig_ns spine) birdc -s $FIG_DIR/spine.ctl show route all | grep -c ', 10, '" ||
	die "BIRD still has allocation routes"
ok "BIRD has no allocation route left"
finished=1
