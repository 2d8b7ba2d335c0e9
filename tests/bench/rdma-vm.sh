#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
# rdma-vm.sh - `make bench`: RDMA latency over soft-RoCE in the tests/vm
# guest (tests/vm/guest-bench.sh), beside ib_read_lat from the same boot.
# Without QEMU or a kernel with rdma_rxe it says so and does nothing.
set -u
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build}
export BUILD
if ! why=$(tests/vm/vm.sh --check); then
	echo "rdma-vm: skipped: $why"
	exit 0
fi
exec tests/vm/vm.sh -t "${IAM_VM_TIMEOUT:-600}" -e BUILD -e N -- tests/vm/guest-bench.sh
