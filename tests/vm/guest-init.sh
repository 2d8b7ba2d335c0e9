#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
# guest-init.sh - PID 1 of the tests/vm guest (started by vm.sh's
# initramfs): mounts, the soft-RoCE fabric, then the command.
#
# The fabric: one veth pair, rxe0 on veth0 (side 0) and rxe1 on veth1
# (side 1), both in the init namespace, because rdma_rxe in 6.1 receives
# UDP 4791 only in init_net.  Addresses:
#
#   side 0 (veth0, rxe0)           side 1 (veth1, rxe1)
#   10.77.0.1/24, fd77::1/64       10.77.0.2/24, fd77::2/64   link
#   fe80::77:1                     fe80::77:2                 gateway
#   fd77:0:0:a::/64 routed here    fd77:0:0:b::/64 routed here
#   fd77:0:0:a::7 (IAM_VM_ADDR0)   fd77:0:0:b::7 (IAM_VM_ADDR1)
#
# Agents started in the guest (tests/vm/agents.bash) put their /80 --
# net fd77:0:0, host a:1 or b:1, so agent addresses fd77:0:0:a:1::1 and
# fd77:0:0:b:1::1 and pools below them -- inside their side's /64; the
# policy rules below already send traffic for the other side's /64 out
# of the right veth.  An agent placed outside these /64s would talk to the
# other through lo.  COMMAND gets:
#   IAM_VM=1, IAM_VM_NETDEV0/1, IAM_VM_DEV0/1 (rxe0/rxe1),
#   IAM_VM_ADDR0/1, IAM_VM_PREFIX0/1, IAM_VM_LINK0/1 (fd77::1/2),
#   IAM_VM_IPV4_0/1, IAM_VM_GID0/1 (GID index of fd77::1/2, RoCE v2),
#   IAM_VM_NET, IAM_VM_HOST0/1, IAM_VM_AGENT0/1 (agents' --net, --host
#   and resulting agent addresses, written as inet_ntop and ip(8) do)
# and runs in the repository's top folder with stdin from /dev/null.
. /run/iam-vm/conf
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export HOME=/root TERM=dumb LANG=C.UTF-8
log() {
	[ "$IAM_VM_VERBOSE" = 1 ] && echo "iam-vm[$(cut -d' ' -f1 /proc/uptime)]: $*"
	return 0
}
finish() {
	echo "$1" >/run/iam-vm/rc
	dmesg >/run/iam-vm/dmesg.txt 2>/dev/null
	sync
	/run/busybox poweroff -f
	echo o >/proc/sysrq-trigger
	sleep 30
}
fail() {
	echo "iam-vm: $*"
	finish 125
}

mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
mkdir -p /dev/pts /dev/shm
# devtmpfs lacks these; bash's process substitution (bats) needs /dev/fd.
ln -sfn /proc/self/fd /dev/fd
ln -sf /proc/self/fd/0 /dev/stdin
ln -sf /proc/self/fd/1 /dev/stdout
ln -sf /proc/self/fd/2 /dev/stderr
mount -t devpts devpts /dev/pts
mount -t tmpfs shm /dev/shm
# The guest gets its own /tmp and /var/tmp; a repository under either (a
# CI clone in /tmp) stays visible through a bind mount taken before.
case $IAM_VM_TOP/ in
/tmp/* | /var/tmp/*)
	mkdir -p /run/iam-vm-top
	mount --bind "$IAM_VM_TOP" /run/iam-vm-top || fail "bind $IAM_VM_TOP"
	;;
esac
mount -t tmpfs tmp /tmp
mount -t tmpfs vartmp /var/tmp
if [ -d /run/iam-vm-top ]; then
	mkdir -p "$IAM_VM_TOP"
	mount --bind /run/iam-vm-top "$IAM_VM_TOP" || fail "bind $IAM_VM_TOP back"
fi
mount -t bpf bpf /sys/fs/bpf 2>/dev/null
hostname iam-vm
ulimit -l unlimited
log "mounts done"

fabric() {
	modprobe -a crc32_generic rdma_rxe rdma_ucm veth || return 1
	local s=/proc/sys/net
	echo 0 >$s/ipv6/conf/all/accept_dad
	echo 0 >$s/ipv6/conf/default/accept_dad
	echo 1 >$s/ipv4/conf/all/accept_local
	echo 0 >$s/ipv4/conf/all/rp_filter
	echo 0 >$s/ipv4/conf/default/rp_filter
	# MTU 9000 gives an RDMA active_mtu of 4096 (1500 would give 1024).
	ip -batch - <<-EOB || return 1
		link set lo up
		link add veth0 mtu 9000 type veth peer name veth1 mtu 9000
		addr add 10.77.0.1/24 dev veth0
		addr add 10.77.0.2/24 dev veth1
		addr add fd77::1/64 dev veth0 nodad
		addr add fd77::2/64 dev veth1 nodad
		addr add fd77:0:0:a::7/64 dev veth0 nodad
		addr add fd77:0:0:b::7/64 dev veth1 nodad
		addr add fe80::77:1/64 dev veth0 nodad
		addr add fe80::77:2/64 dev veth1 nodad
		link set veth0 up
		link set veth1 up
	EOB
	# Both ends are local addresses of one namespace, so by default the
	# kernel would loop traffic between them through lo.  Look up the
	# local table only for packets that arrived on a veth; everything
	# addressed to the other side leaves through this side's veth.  The
	# other side's /64 goes via a gateway, its link-local address:
	# neighbour discovery only answers for assigned addresses, and an
	# agent's block addresses are local routes, not assigned ones.  (A
	# global gateway is refused, being local on the other veth; a
	# link-local one is only checked against the route's own device.)
	ip -4 -batch - <<-EOB || return 1
		rule add pref 100 lookup local
		rule del pref 0
		rule add pref 5 iif veth0 lookup local
		rule add pref 5 iif veth1 lookup local
		rule add pref 10 to 10.77.0.2 lookup 100
		route add 10.77.0.2 dev veth0 src 10.77.0.1 table 100
		rule add pref 10 to 10.77.0.1 lookup 101
		route add 10.77.0.1 dev veth1 src 10.77.0.2 table 101
	EOB
	ip -6 -batch - <<-EOB || return 1
		rule add pref 100 lookup local
		rule del pref 0
		rule add pref 5 iif veth0 lookup local
		rule add pref 5 iif veth1 lookup local
		rule add pref 10 to fd77::2 lookup 100
		rule add pref 10 to fd77:0:0:b::/64 lookup 100
		route add fd77::2 dev veth0 src fd77::1 table 100
		route add fd77:0:0:b::/64 via fe80::77:2 dev veth0 table 100
		rule add pref 10 to fd77::1 lookup 101
		rule add pref 10 to fd77:0:0:a::/64 lookup 101
		route add fd77::1 dev veth1 src fd77::2 table 101
		route add fd77:0:0:a::/64 via fe80::77:1 dev veth1 table 101
	EOB
	rdma link add rxe0 type rxe netdev veth0 || return 1
	rdma link add rxe1 type rxe netdev veth1 || return 1
	# The GID tables fill asynchronously; wait for the addresses we use.
	local i g x link want want2 gid n
	for i in 0 1; do
		link=fd77::$((i + 1))
		want=fd77:0000:0000:0000:0000:0000:0000:000$((i + 1))
		want2=fd77:0000:0000:000$(printf %x $((10 + i))):0000:0000:0000:0007
		gid='' n=0
		for _ in $(seq 200); do
			gid='' n=0
			for g in $(seq 0 15); do
				read -r x <"/sys/class/infiniband/rxe$i/ports/1/gids/$g" \
					2>/dev/null || continue
				[ "$x" = "$want" ] && gid=$g
				[ "$x" = "$want2" ] && n=1
			done
			[ -n "$gid" ] && [ $n = 1 ] && break
			sleep 0.05
		done
		[ -n "$gid" ] && [ $n = 1 ] || {
			echo "iam-vm: the GIDs of rxe$i did not appear"
			return 1
		}
		export IAM_VM_NETDEV$i=veth$i IAM_VM_DEV$i=rxe$i IAM_VM_GID$i=$gid \
			IAM_VM_LINK$i=$link IAM_VM_IPV4_$i=10.77.0.$((i + 1))
	done
	export IAM_VM_ADDR0=fd77:0:0:a::7 IAM_VM_ADDR1=fd77:0:0:b::7 \
		IAM_VM_PREFIX0=fd77:0:0:a::/64 IAM_VM_PREFIX1=fd77:0:0:b::/64 \
		IAM_VM_NET=fd77:0:0 IAM_VM_HOST0=a:1 IAM_VM_HOST1=b:1 \
		IAM_VM_AGENT0=fd77::a:1:0:0:1 IAM_VM_AGENT1=fd77::b:1:0:0:1
}
fabric || fail "soft-RoCE setup failed"
export IAM_VM=1
log "fabric up: rxe0/veth0 gid $IAM_VM_GID0, rxe1/veth1 gid $IAM_VM_GID1"

stty -F /dev/ttyS0 raw -echo 2>/dev/null
cd "$IAM_VM_TOP" || fail "no $IAM_VM_TOP in the guest"
("${IAM_VM_CMD[@]}") </dev/null >/dev/ttyS0 2>&1
rc=$?
log "command exited with $rc"
finish $rc
