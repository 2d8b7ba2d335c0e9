#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
# guest-bench.sh - RDMA latency figures inside the tests/vm guest, beside
# their raw limit from the same boot: ib_read_lat (perftest) between the
# same two soft-RoCE devices over RoCEv2/IPv6 first, then
# build/tests/vm/bench_rdma (the transport's READ and WRITE, and page
# faults served over RDMA and from a local pool), each p50 also as a
# multiple of ib_read_lat's.  Run by tests/bench/rdma-vm.sh.  Prints
# figures; fails only when something does not run.
set -u
BUILD=${BUILD:-build}
N=${N:-2000}
: "${IAM_VM:?run me through tests/vm/vm.sh}"
rc=0

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
exit $rc
