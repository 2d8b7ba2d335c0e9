#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
# vm.sh - run a command in a throw-away QEMU guest with two soft-RoCE
# devices (rdma_rxe) on the two ends of one veth pair.
#
#   tests/vm/vm.sh [options] [--] COMMAND [ARGS...]
#     -t SEC    wall-clock limit for the whole VM (default 600; 124 on expiry)
#     -m SIZE   guest memory (default 1G)
#     -c N      guest vCPUs (default 2)
#     -e NAME[=VALUE]  pass an environment variable to COMMAND (repeatable)
#     -l FILE   save the guest console and dmesg to FILE
#     -v        show the guest's boot and setup messages on stderr
#     --check   only say whether a guest can be booted here: exit 0, or
#               print the reason and exit 3
#
# The guest boots Debian's linux-image-amd64 (the newest /boot/vmlinuz-*
# with rdma_rxe) through a tiny busybox initramfs, cached under
# $IAM_VM_CACHE (/var/tmp/iam-vm-cache).  Its root file system is the
# host's /, exported read-only over virtio-9p with a tmpfs overlay on top,
# so the build folder, rdma-core and perftest are simply there, at the
# same paths.  tests/vm/guest-init.sh sets up the network and RDMA (see
# there for the addresses and the IAM_VM_* variables COMMAND gets) and
# runs COMMAND as root in the repository's top folder.  COMMAND's output
# is this script's stdout; its exit status is this script's, or 124
# (timeout), or 125 (the VM or the guest setup failed).
#
# Acceleration: TCG, unless the CPU has vmx/svm and /dev/kvm is writable
# (IAM_VM_ACCEL=kvm|tcg overrides).  TCG boots in about 6 s.
set -euo pipefail

prog=tests/vm/vm.sh
die() {
	echo "$prog: $*" >&2
	exit 125
}
top=$(cd "$(dirname "$0")/../.." && pwd)

timeout_s=600 mem=1G cpus=2 log='' verbose=0 check=0
envs=()
while [ $# -gt 0 ]; do
	case $1 in
	-t) timeout_s=$2; shift 2 ;;
	-m) mem=$2; shift 2 ;;
	-c) cpus=$2; shift 2 ;;
	-e) envs+=("$2"); shift 2 ;;
	-l) log=$2; shift 2 ;;
	-v) verbose=1; shift ;;
	--check) check=1; shift ;;
	--) shift; break ;;
	-*) die "unknown option $1" ;;
	*) break ;;
	esac
done

# ---- what the host must have ------------------------------------------------
# missing: print why a guest cannot run here, or nothing.
missing() {
	local t k v
	for t in qemu-system-x86_64 modprobe cpio gzip xz timeout; do
		command -v $t >/dev/null || {
			echo "no $t (tools/deps.sh installs qemu-system-x86 kmod cpio xz-utils)"
			return
		}
	done
	case $(ldd /bin/busybox 2>&1) in
	*'not a dynamic'*) ;;
	*) false ;;
	esac
	if [ $? -ne 0 ] || [ ! -x /bin/busybox ]; then
		echo "no static /bin/busybox (package busybox-static)"
		return
	fi
	for k in $(ls -1v /boot/vmlinuz-* 2>/dev/null | tac); do
		v=${k#/boot/vmlinuz-}
		if [ -n "$(find "/lib/modules/$v/kernel/drivers/infiniband/sw/rxe" \
			-name 'rdma_rxe.ko*' 2>/dev/null)" ]; then
			if [ ! -r "$k" ]; then
				echo "cannot read $k (run as root)"
				return
			fi
			echo "$k" >"${kernel_out:-/dev/null}"
			return
		fi
	done
	echo "no /boot/vmlinuz-* with an rdma_rxe module (package linux-image-amd64)"
}
kernel_out=$(mktemp /tmp/iam-vm-k.XXXXXX)
why=$(missing)
kernel=$(cat "$kernel_out")
rm -f "$kernel_out"
if [ -n "$why" ]; then
	[ $check = 1 ] && { echo "$why"; exit 3; }
	die "$why"
fi
[ $check = 1 ] && exit 0
[ $# -gt 0 ] || die "no command (see the top of $0)"
kver=${kernel#/boot/vmlinuz-}

# ---- initramfs: busybox + the modules for 9p and overlay (cached) ------------
cache=${IAM_VM_CACHE:-/var/tmp/iam-vm-cache}
mkdir -p "$cache"
init_script() {
	sed -n '/^#==INIT==$/,/^#==END-INIT==$/p' "$0" | sed '1d;$d'
}
key=$({ echo "$kver"; init_script; } | md5sum | cut -c1-12)
initrd=$cache/initrd-$kver-$key.cpio.gz
if [ ! -s "$initrd" ]; then
	ir=$(mktemp -d "$cache/build.XXXXXX")
	mkdir -p "$ir"/{bin,dev,proc,sys,lower,upper,newroot,mods}
	cp /bin/busybox "$ir/bin/"
	i=10
	for p in $(for m in virtio_pci 9pnet_virtio 9p overlay; do
		modprobe -S "$kver" --show-depends $m
	done | awk '$1 == "insmod" && !seen[$2]++ { print $2 }'); do
		i=$((i + 1))
		cp "$p" "$ir/mods/$i-${p##*/}"
	done
	init_script >"$ir/init"
	chmod +x "$ir/init"
	(cd "$ir" && find . | LC_ALL=C sort | cpio -o -H newc --quiet | gzip -1) >"$ir.gz"
	mv -f "$ir.gz" "$initrd"
	rm -rf "$ir"
	find "$cache" -maxdepth 1 -name "initrd-$kver-*" ! -name "${initrd##*/}" -delete
fi
: <<'#==END-INIT=='
#==INIT==
#!/bin/busybox sh
# Stage 1: the host's / (9p, read-only) under a tmpfs overlay becomes the
# root; the per-run control folder is mounted at /run/iam-vm.
B=/bin/busybox
$B mount -t proc proc /proc
$B mount -t sysfs sys /sys
$B mount -t devtmpfs dev /dev
exec >/dev/console 2>&1
for m in /mods/*.ko; do $B insmod $m || echo "iam-vm: insmod $m failed"; done
O=trans=virtio,version=9p2000.L,msize=512000
fail() { echo "iam-vm: $*"; $B poweroff -f; }
$B mount -t 9p -o $O,ro,cache=loose hostroot /lower || fail "9p root"
$B mount -t tmpfs -o mode=755 upper /upper
$B mkdir -p /upper/u /upper/w
$B mount -t overlay -o lowerdir=/lower,upperdir=/upper/u,workdir=/upper/w \
	root /newroot || fail "overlay"
$B mount -t tmpfs -o mode=755 run /newroot/run
$B mkdir -p /newroot/run/iam-vm
$B mount -t 9p -o $O,cache=none ctl /newroot/run/iam-vm || fail "ctl share"
$B cp $B /newroot/run/busybox
$B umount /proc /sys /dev
exec $B switch_root /newroot /bin/bash /run/iam-vm/stage2
#==END-INIT==

# ---- uncompressed kernel: PVH entry skips ~3 s of XZ under TCG (cached) ------
bootk=$kernel
if [ "${IAM_VM_PVH:-1}" = 1 ] && grep -qs '^CONFIG_PVH=y' "/boot/config-$kver"; then
	vml=$cache/vmlinux-$kver-$(stat -c %s-%Y "$kernel")
	if [ ! -s "$vml" ]; then
		off=$(LC_ALL=C grep -obUaP '\xfd7zXZ\x00' "$kernel" | head -n1 | cut -d: -f1 || true)
		if [ -n "$off" ]; then
			tail -c +$((off + 1)) "$kernel" | xz -dc --single-stream >"$vml.$$" 2>/dev/null || true
			if [ "$(head -c4 "$vml.$$" | od -An -c | tr -d ' ')" = '177ELF' ]; then
				mv -f "$vml.$$" "$vml"
				find "$cache" -maxdepth 1 -name "vmlinux-$kver-*" \
					! -name "${vml##*/}" -delete
			else
				rm -f "$vml.$$"
			fi
		fi
	fi
	[ -s "$vml" ] && bootk=$vml
fi

# ---- the run's control folder: stage 2, the command, the result -------------
ctl=$(mktemp -d /tmp/iam-vm.XXXXXX)
qpid=
cleanup() {
	if [ -n "$qpid" ]; then
		kill "$qpid" 2>/dev/null || true
		wait "$qpid" 2>/dev/null || true
	fi
	rm -rf "$ctl"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

printf 'exec /bin/bash %q\n' "$top/tests/vm/guest-init.sh" >"$ctl/stage2"
{
	printf 'IAM_VM_TOP=%q\n' "$top"
	printf 'IAM_VM_VERBOSE=%q\n' "$verbose"
	for e in "${envs[@]+"${envs[@]}"}"; do
		case $e in
		*=*) printf 'export %q\n' "$e" ;;
		*) printf 'export %s=%q\n' "$e" "${!e-}" ;;
		esac
	done
	printf 'IAM_VM_CMD=('
	printf '%q ' "$@"
	echo ')'
} >"$ctl/conf"

# ---- boot ------------------------------------------------------------------
accel=${IAM_VM_ACCEL:-}
if [ -z "$accel" ]; then
	accel=tcg
	if [ -w /dev/kvm ] && grep -qE '^flags.* (vmx|svm)( |$)' /proc/cpuinfo; then
		accel=kvm
	fi
fi
case $accel in
kvm) cpuopt=(-accel kvm -cpu host) ;;
tcg) cpuopt=(-accel tcg,thread=multi -cpu max) ;;
*) die "IAM_VM_ACCEL=$accel: kvm or tcg" ;;
esac
bios=()
[ -f /usr/share/qemu/qboot.rom ] && bios=(-bios /usr/share/qemu/qboot.rom)

# ttyS0 carries only COMMAND's output; ttyS1 the kernel console.
# tsc=reliable: TCG's vCPU TSCs come from one host clock, but the kernel
# finds them "unsynchronized" and falls back to HPET, which makes every
# clock_gettime an emulated MMIO read (~2 us instead of ~0.15 us).
timeout -k 5 "$timeout_s" qemu-system-x86_64 "${cpuopt[@]}" -m "$mem" -smp "$cpus" \
	-nodefaults -no-user-config -display none -monitor none -net none \
	-no-reboot "${bios[@]}" -kernel "$bootk" -initrd "$initrd" \
	-append "console=ttyS1 quiet panic=-1 oops=panic nowatchdog tsc=reliable" \
	-serial stdio -serial "file:$ctl/console.log" \
	-virtfs "local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap" \
	-virtfs "local,path=$ctl,mount_tag=ctl,security_model=none" </dev/null &
qpid=$!
set +e
wait $qpid
qrc=$?
set -e
qpid=

if [ -n "$log" ]; then
	{
		cat "$ctl/console.log"
		echo "==== dmesg ===="
		cat "$ctl/dmesg.txt" 2>/dev/null
	} >"$log" || true
fi
if [ $verbose = 1 ]; then
	{
		echo "---- guest console ----"
		cat "$ctl/console.log"
		echo "---- guest dmesg (tail) ----"
		tail -n 40 "$ctl/dmesg.txt" 2>/dev/null
	} >&2 || true
fi
if [ -s "$ctl/rc" ]; then
	rc=$(cat "$ctl/rc")
	if [ "$rc" = 125 ]; then
		echo "$prog: guest setup failed; console:" >&2
		tail -n 30 "$ctl/console.log" >&2
	fi
	exit "$rc"
fi
if [ $qrc = 124 ] || [ $qrc = 137 ]; then
	echo "$prog: timed out after ${timeout_s}s; console tail:" >&2
	tail -n 20 "$ctl/console.log" >&2
	exit 124
fi
echo "$prog: the VM ended without a result (qemu status $qrc); console tail:" >&2
tail -n 30 "$ctl/console.log" >&2
exit 125
