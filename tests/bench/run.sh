#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
# `make bench`: run every benchmark binary ($BUILD/tests/bench/*) and every
# tests/bench/*.sh script.  Each prints its own figures beside the raw limit
# it measured in the same run.  Nothing here passes or fails on a number.
set -u
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build}
export BUILD
rc=0
for b in "$BUILD"/tests/bench/*; do
	[ -x "$b" ] || continue
	echo "==== ${b##*/}"
	"$b" || { echo "bench ${b##*/} failed (status $?)"; rc=1; }
done
for s in tests/bench/*.sh; do
	[ -x "$s" ] && [ "${s##*/}" != run.sh ] || continue
	echo "==== ${s##*/}"
	"$s" || { echo "bench ${s##*/} failed (status $?)"; rc=1; }
done
exit $rc
