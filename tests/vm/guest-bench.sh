#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
# guest-bench.sh - RDMA latency figures inside the tests/vm guest, beside
# their raw limit from the same boot: ib_read_lat (perftest) between the
# same two soft-RoCE devices over RoCEv2/IPv6 first, then
# build/tests/vm/bench_rdma (the transport's READ and WRITE, and page
# faults served over RDMA and from a local pool), then real agents
# (iam-load on both sides, tests/vm/agents.bash) with iam-bench faulting
# an 8M region through a 1M cache on side 1, read from side 0 by RDMA
# READ.  Each p50 also as a multiple of ib_read_lat's.  Run by
# tests/bench/rdma-vm.sh.  Prints figures; fails only when something
# does not run.
set -u
BUILD=${BUILD:-build}
N=${N:-2000}
: "${IAM_VM:?run me through tests/vm/vm.sh}"
rc=0
. tests/vm/agents.bash

# perftest's client needs its server listening (out-of-band TCP on IPv4);
# under TCG that can take a moment, so retry the client.  Prints the
# result line and sets lat_p50.
lat_p50=
lat() {
	local size=$1 out sp line
	ib_read_lat -d "$IAM_VM_DEV0" -x "$IAM_VM_GID0" -s "$size" -n "$N" \
		>/tmp/lat-srv.out 2>&1 &
	sp=$!
	for _ in $(seq 20); do
		sleep 0.3
		out=$(timeout 120 taskset -c 0 ib_read_lat -d "$IAM_VM_DEV1" \
			-x "$IAM_VM_GID1" -s "$size" -n "$N" "$IAM_VM_IPV4_0" 2>&1) && break
		kill -0 $sp 2>/dev/null || break
	done
	wait $sp
	# columns: bytes iterations t_min t_max t_typical t_avg t_stdev 99% 99.9%
	line=$(echo "$out" | awk -v s="$size" '$1 == s && NF >= 8 { print; exit }')
	if [ -z "$line" ]; then
		echo "ib_read_lat -s $size failed:"
		echo "$out" | tail -n 5
		tail -n 5 /tmp/lat-srv.out
		return 1
	fi
	set -- $line
	lat_p50=$5
	printf '%-38s n=%d  p50 %7.1f us  p99 %7.1f us  min %7.1f us\n' \
		"ib_read_lat $size B (t_typical)" "$2" "$5" "$8" "$3"
}

echo "# soft-RoCE in a QEMU guest ($(nproc) vCPUs, $(uname -r)), rxe0 <-> rxe1 over a veth (MTU 9000)"
echo "# client and fault thread pinned to CPU 0; (Nx) = p50 / ib_read_lat p50; goal for faults: <= 1.3x"
lat 4096 || rc=1
taskset -c 0 "$BUILD/tests/vm/bench_rdma" -n "$N" -C 0 ${lat_p50:+-L "$lat_p50"} || rc=1
echo "# the same with a transport poll burst longer than a TCG round trip (-S 1000)"
taskset -c 0 "$BUILD/tests/vm/bench_rdma" -n "$N" -C 0 -S 1000 ${lat_p50:+-L "$lat_p50"} || rc=1

# agents: one iam-bench run on side 1 against real agents.
agents() {
	local out st0 st1 p50 p99 n lu lut x
	vm_agent 0 --pool 16M --cpu 1 || return 1
	vm_agent 1 --pool 1M --local-budget 0 --cache 1M --cpu 0 || return 1
	vm_agents_wait 60 || return 1
	out=$(taskset -c 0 "$BUILD/iam-bench" -i vm1 --size 8M --passes 2 \
		--cpu 0 --json) || {
		echo "iam-bench failed: $out"
		return 1
	}
	st0=$(vm_ctl 0 status --json)
	st1=$(vm_ctl 1 status --json)
	read -r p50 p99 n lu lut x < <(jq -r '"\(.p50_us) \(.p99_us) \(.faults) \(.limit_uffd_p50_us) \(.limit_uffd_thread_p50_us) \(.transport)"' <<< "$out")
	printf '%-38s n=%d  p50 %7.1f us  p99 %7.1f us%s\n' \
		"iam-bench fault over $x (agents)" "$n" "$p50" "$p99" \
		"${lat_p50:+$(awk -v a="$p50" -v b="$lat_p50" 'BEGIN { printf "  (%.2fx)", a / b }')}"
	printf '    same run: uffd fault served by another process p50 %.1f us (by a thread %.1f us); ib_read_lat + that = %.1f us%s\n' \
		"$lu" "$lut" "$(awk -v a="$lu" -v b="${lat_p50:-0}" 'BEGIN { print a + b }')" \
		"${lat_p50:+$(awk -v a="$p50" -v b="$lat_p50" -v u="$lu" 'BEGIN { printf " (p50 %.2fx that)", a / (b + u) }')}"
	jq -r '"    borrower: \(.faults) faults, \(.remote_reads) remote reads (\(.rdma_reads) by RDMA READ), \(.writebacks) write-backs (\(.rdma_writes) by RDMA WRITE)"' <<< "$st1"
	jq -r '"    lender: TCP data server \(.data_reads) reads, \(.data_writes) writes; RDMA \(.rdma_queue_pairs) queue pair(s)"' <<< "$st0"
}
echo "# real agents on both sides (XDP on both veths), side 1 borrowing 8M from side 0 through a 1M cache;"
echo "# borrower's fault thread and iam-bench on CPU 0, verified byte for byte"
agents || rc=1
vm_agents_down
exit $rc
