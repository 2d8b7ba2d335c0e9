#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
# run.sh - the "vm" suite of tests/run.sh (and `make test-rxe`): boot one
# soft-RoCE guest (tests/vm/vm.sh), run tests/vm/guest-tests.sh in it and
# print its results as one TAP stream.  Without QEMU, a kernel with
# rdma_rxe or a static busybox the suite is skipped, saying which.
set -u
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build}
export BUILD

why=$(tests/vm/vm.sh --check)
if [ $? -ne 0 ]; then
	echo "1..1"
	echo "ok 1 - vm: soft-RoCE guest # SKIP $why"
	exit 0
fi
for b in tests/vm/test_rdma tests/vm/test_rdma_fault tests/tools/iam-client \
	iam-load iamctl; do
	if [ ! -x "$BUILD/$b" ]; then
		echo "1..1"
		echo "not ok 1 - vm: $BUILD/$b is not built (make tests)"
		exit 1
	fi
done
if ! command -v bats > /dev/null || ! command -v jq > /dev/null; then
	echo "1..1"
	echo "not ok 1 - vm: bats and jq are needed (tools/deps.sh installs them)"
	exit 1
fi

# Number the guest's TAP lines in one sequence; other lines are comments.
n=0 rc=
while IFS= read -r line; do
	line=${line%$'\r'}
	case $line in
	'__vm_rc '*) rc=${line#__vm_rc } ;;
	'ok '* | 'not ok '*)
		n=$((n + 1))
		if [[ $line =~ ^(not )?ok\ [0-9]*\ ?(.*)$ ]]; then
			echo "${BASH_REMATCH[1]}ok $n ${BASH_REMATCH[2]}"
		fi
		;;
	1..*) ;;
	'#'*) echo "$line" ;;
	*) echo "# $line" ;;
	esac
done < <(
	start=$(date +%s)
	tests/vm/vm.sh -t "${IAM_VM_TIMEOUT:-300}" -e BUILD -- tests/vm/guest-tests.sh
	r=$?
	echo "# vm: guest ran $(($(date +%s) - start)) s"
	echo "__vm_rc $r"
)
if [ "${rc:-125}" != 0 ]; then
	n=$((n + 1))
	case ${rc:-125} in
	124) echo "not ok $n - vm: the guest timed out" ;;
	125) echo "not ok $n - vm: the guest did not boot or set up its fabric" ;;
	*) echo "not ok $n - vm: guest tests ended with status $rc" ;;
	esac
fi
echo "1..$n"
