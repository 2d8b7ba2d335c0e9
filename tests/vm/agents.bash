# SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
# Two real agents (iam-load) in the tests/vm guest, one per side of its
# soft-RoCE fabric, for tests/vm/borrow.bats and tests/vm/guest-bench.sh.
#
# rdma_rxe in 6.1 receives RoCEv2 only in init_net, so both agents run in
# the guest's init namespace, each on its own veth end with its own rxe
# device, pool and agent address.  guest-init.sh's policy routing sends
# everything for the other side's /64 out of this side's veth, so traffic
# between the agents crosses the veth (and both XDP programs) instead of
# short-cutting through the local table that holds both agent addresses
# and both pools' local routes.  The agents' /80s (net:host) lie inside
# those /64s: side i is net $IAM_VM_NET, host $IAM_VM_HOSTi, agent address
# $IAM_VM_AGENTi.
#
# BGP: the two agents peer directly (iBGP, AS 65000) over the link
# addresses.  Both listen in one namespace, so side 1 listens on port 1179
# and side 0 connects there.  The other ports need no such care: the
# control and rdma_cm listeners are bound to the agent address, and the TCP
# data server to the agent's interface.
#
#   vm_agent SIDE [iam-load options...]   start side SIDE's agent (vm0/vm1)
#   vm_agents_wait TIMEOUT_S              until both see both pools
#   iam_wait_for TIMEOUT_S CMD... / iam_wait_eq TIMEOUT_S EXPECTED CMD...
#   vm_ctl SIDE iamctl-args...
#   vm_status SIDE JQ                     one value of `iamctl status --json`
#   vm_client_start NAME SIDE ARGS...     iam-client on SIDE, fed by a fifo
#   vm_client NAME CMD                    one command, prints the answer
#   vm_agents_down                        SIGTERM, wait, report leftovers

VM_TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
VM_BUILD=${BUILD:-build}
case $VM_BUILD in /*) ;; *) VM_BUILD=$VM_TOP/$VM_BUILD ;; esac
VM_DIR=${VM_DIR:-/tmp/iam-vm-agents}
VM_AS=65000
VM_BGP_PORT0=179
VM_BGP_PORT1=1179

vm_inst() { echo "vm$1"; }

# iam_wait_for, iam_wait_eq
. "$(dirname "${BASH_SOURCE[0]}")/../wait.bash"

vm_agent() {
	local i=$1 o=$((1 - $1)) link peer_port
	shift
	mkdir -p "$VM_DIR"
	link=$(eval echo "\$IAM_VM_LINK$i")
	peer_port=$(eval echo "\$VM_BGP_PORT$o")
	"$VM_BUILD/iam-load" --instance "$(vm_inst "$i")" \
		--dev "$(eval echo "\$IAM_VM_NETDEV$i")" \
		--net "$IAM_VM_NET" --host "$(eval echo "\$IAM_VM_HOST$i")" \
		--asn $VM_AS --router-id "$(eval echo "\$IAM_VM_IPV4_$i")" \
		--bgp-port "$(eval echo "\$VM_BGP_PORT$i")" \
		--peer "$(eval echo "\$IAM_VM_LINK$o"),as=$VM_AS,port=$peer_port,source=$link" \
		"$@" > "$VM_DIR/agent$i.log" 2>&1 3>&- &
	echo $! > "$VM_DIR/agent$i.pid"
	disown $!
	iam_wait_for 30 vm_ctl "$i" status
}

vm_ctl() {
	local i=$1
	shift
	"$VM_BUILD/iamctl" -i "$(vm_inst "$i")" "$@"
}

vm_status() {
	vm_ctl "$1" status --json | jq -r "$2"
}

# Both agents know both pools, and their session is up.
vm_agents_ready() {
	local i want
	for i in 0 1; do
		want=$(($(vm_status 0 .own_total_blocks) + $(vm_status 1 .own_total_blocks)))
		[ "$(vm_status "$i" .total_blocks)" = "$want" ] || return 1
		[ "$(vm_status "$i" .peers_established)" = 1 ] || return 1
	done
}

vm_agents_wait() {
	iam_wait_for "$1" vm_agents_ready
}

vm_agent_pid() { cat "$VM_DIR/agent$1.pid"; }

vm_client_start() {
	local name=$1 i=$2
	shift 2
	mkfifo "$VM_DIR/$name.in"
	"$VM_BUILD/tests/tools/iam-client" -i "$(vm_inst "$i")" "$@" \
		< "$VM_DIR/$name.in" > "$VM_DIR/$name.out" 2>&1 3>&- &
	echo $! > "$VM_DIR/$name.pid"
	disown $!
	# The holder keeps the fifo open between commands; background
	# processes must not hold bats' fd 3.
	sleep infinity > "$VM_DIR/$name.in" 2> /dev/null 3>&- &
	echo $! > "$VM_DIR/$name.holder"
	disown $!
	iam_wait_for 60 grep -Eq '^(ready|alloc-failed)' "$VM_DIR/$name.out"
	head -n 1 "$VM_DIR/$name.out"
}

# vm_lines_above FILE N: FILE has more than N lines.
vm_lines_above() {
	[ "$(wc -l < "$1")" -gt "$2" ]
}

vm_client() {
	local name=$1 n
	shift
	n=$(wc -l < "$VM_DIR/$name.out")
	echo "$*" > "$VM_DIR/$name.in"
	iam_wait_for 120 vm_lines_above "$VM_DIR/$name.out" "$n"
	tail -n 1 "$VM_DIR/$name.out"
}

vm_client_stop() {
	local name=$1 pid
	pid=$(cat "$VM_DIR/$name.pid")
	kill "$(cat "$VM_DIR/$name.holder")" 2> /dev/null
	iam_wait_for 20 bash -c "! kill -0 $pid 2> /dev/null"
}

# Stop both agents (and clients): SIGTERM first, so they withdraw and
# detach, then SIGKILL what is left.
vm_agents_down() {
	local f p
	for f in "$VM_DIR"/*.holder "$VM_DIR"/*.pid; do
		[ -f "$f" ] || continue
		kill -TERM "$(cat "$f")" 2> /dev/null
	done
	for f in "$VM_DIR"/agent*.pid; do
		[ -f "$f" ] || continue
		p=$(cat "$f")
		iam_wait_for 10 bash -c "! kill -0 $p 2> /dev/null" ||
			kill -KILL "$p" 2> /dev/null
	done
	for f in "$VM_DIR"/*.pid; do
		[ -f "$f" ] && kill -KILL "$(cat "$f")" 2> /dev/null
	done
	rm -f "$VM_DIR"/*.pid "$VM_DIR"/*.holder "$VM_DIR"/*.in
	return 0
}
