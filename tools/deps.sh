#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
# Install every Debian package that building, testing and the demo need.
# Idempotent: a package already installed is not touched, and when nothing
# is missing apt-get is not run at all (so a second run is quick and quiet).
set -euo pipefail

pkgs=(
	# build
	make gcc clang llvm pkg-config libbpf-dev bpftool libelf-dev zlib1g-dev
	libmnl-dev libibverbs-dev librdmacm-dev rdma-core clang-format
	# tests and fuzzing (libFuzzer, ASan, UBSan come with libclang-rt)
	bats jq iproute2 bird2 libclang-rt-14-dev procps psmisc util-linux
	# soft-RoCE in a QEMU guest (tests/vm)
	qemu-system-x86 linux-image-amd64 busybox-static kmod cpio xz-utils
	ibverbs-utils ibverbs-providers rdmacm-utils perftest
	# demo, benchmark plots, man pages
	gnuplot-nox iputils-ping man-db
)

missing=()
for p in "${pkgs[@]}"; do
	s=$(dpkg-query -W -f='${db:Status-Abbrev}' "$p" 2>/dev/null || true)
	[ "${s:0:2}" = ii ] || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
	[ "${1:-}" = -v ] && echo "deps: all ${#pkgs[@]} packages present"
	exit 0
fi
if [ "$(id -u)" != 0 ]; then
	echo "deps: missing packages (${missing[*]}); run as root to install them" >&2
	exit 1
fi
echo "deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "deps: done"
