// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * maps.c - load, pin and attach the XDP classifier; edit its maps.
 * See maps.h for the contract.
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/ethtool.h>
#include <linux/if_link.h>
#include <linux/sockios.h>
#include <net/if.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "iam_xdp.skel.h"
#include "log.h"
#include "maps.h"

/* Where bpffs is mounted; IAM_BPFFS_DIR lies below it. */
#define BPFFS_ROOT "/sys/fs/bpf"
#ifndef BPF_FS_MAGIC
#define BPF_FS_MAGIC 0xcafe4a11
#endif

const struct iam_maps_counter_desc iam_maps_classes[IAM_CLASS_MAX] = {
#define X(num, id, name, text) [num] = { name, text },
	IAM_CLASSES(X)
#undef X
};

const struct iam_maps_counter_desc iam_maps_drops[IAM_DROP_MAX] = {
#define X(num, id, name, text) [num] = { name, text },
	IAM_DROP_REASONS(X)
#undef X
};

struct iam_maps {
	struct iam_xdp *skel;
	struct iam_m2i_entry *m2i; /* mmap of mem_to_ip */
	size_t m2i_len; /* bytes mapped */
	uint32_t m2i_slots;
	struct iam_block_ref *blocks; /* mmap of iam_blocks */
	size_t blocks_len;
	struct iam_access_entry *access; /* mmap of iam_access */
	size_t access_len;
	uint32_t pool_blocks_max; /* iam_blocks entries */
	uint32_t next_slot; /* where the search for a free slot starts */
	struct iam_local local; /* what iam_local holds */
	uint8_t pool_plen; /* the pool's prefix length, if pool_blocks */
	uint8_t net_host[10]; /* cfg.net | cfg.host, network byte order */
	int link_fd; /* the XDP bpf_link, -1 if not attached */
	const char *mode; /* "native", "generic" or "none" */
	bool pinned; /* the maps' pins exist */
	char ifname[IF_NAMESIZE];
	char dir[sizeof(IAM_BPFFS_DIR) + IAM_INSTANCE_MAX];
};

/* log.h's hook takes the level as an int; libbpf_print_fn_t as its enum. */
static int libbpf_print(enum libbpf_print_level level, const char *fmt,
			va_list ap)
{
	return iam_log_libbpf((int)level, fmt, ap);
}

static struct bpf_map **all_maps(struct iam_xdp *skel, struct bpf_map **v)
{
	v[0] = skel->maps.iam_prefixes;
	v[1] = skel->maps.iam_local;
	v[2] = skel->maps.iam_blocks;
	v[3] = skel->maps.iam_access;
	v[4] = skel->maps.mem_to_ip;
	v[5] = skel->maps.iam_stats;
	return v;
}
#define NMAPS 6

static size_t page_round(size_t n)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);

	return (n + page - 1) & ~(page - 1);
}

/* Map an BPF_F_MMAPABLE array's values read-write; NULL with errno. */
static void *map_values(struct bpf_map *map, size_t elem, uint32_t n,
			size_t *len)
{
	void *p;

	*len = page_round((size_t)n * elem);
	p = mmap(NULL, *len, PROT_READ | PROT_WRITE, MAP_SHARED,
		 bpf_map__fd(map), 0);
	if (p == MAP_FAILED) {
		iam_err("cannot map %s: %s", bpf_map__name(map),
			strerror(errno));
		return NULL;
	}
	return p;
}

static uint64_t be64_at(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return v;
}

static const char *fmt_in6(const struct in6_addr *a, char *buf)
{
	return inet_ntop(AF_INET6, a, buf, INET6_ADDRSTRLEN) ? buf : "?";
}

int iam_maps_instance_valid(const char *name)
{
	size_t n;

	if (!name)
		return -EINVAL;
	n = strlen(name);
	if (n == 0 || n >= IAM_INSTANCE_MAX || !strcmp(name, ".") ||
	    !strcmp(name, ".."))
		return -EINVAL;
	if (strspn(name, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
			 "0123456789_.-") != n)
		return -EINVAL;
	return 0;
}

int iam_maps_pin_path(const char *instance, const char *map, char *buf,
		      size_t len)
{
	int n;

	if (iam_maps_instance_valid(instance))
		return -EINVAL;
	n = snprintf(buf, len, "%s/%s%s%s", IAM_BPFFS_DIR, instance,
		     map ? "/" : "", map ? map : "");
	if (n < 0 || (size_t)n >= len)
		return -ENAMETOOLONG;
	return 0;
}

int iam_maps_pinned_fd(const char *instance, const char *map)
{
	char path[256];
	int fd, err;

	err = iam_maps_pin_path(instance, map, path, sizeof(path));
	if (err)
		return err;
	fd = bpf_obj_get(path);
	if (fd < 0)
		return -errno;
	return fd;
}

int iam_maps_stats_read(int fd, struct iam_xdp_stats *out)
{
	/* A per-CPU value is copied out once per possible CPU, each rounded
	 * up to 8 bytes. */
	const size_t vsz = (sizeof(*out) + 7) & ~(size_t)7;
	struct iam_counter *sum = (struct iam_counter *)out;
	int ncpu = libbpf_num_possible_cpus();
	uint32_t key = 0;
	char *buf;
	int err = 0;

	if (ncpu < 0)
		return ncpu;
	buf = calloc((size_t)ncpu, vsz);
	if (!buf)
		return -ENOMEM;
	if (bpf_map_lookup_elem(fd, &key, buf) < 0) {
		err = -errno;
		goto out;
	}
	memset(out, 0, sizeof(*out));
	for (int cpu = 0; cpu < ncpu; cpu++) {
		const struct iam_counter *c =
			(const void *)(buf + (size_t)cpu * vsz);

		for (int i = 0; i < IAM_STATS_NCOUNTERS; i++) {
			sum[i].packets += c[i].packets;
			sum[i].bytes += c[i].bytes;
		}
	}
out:
	free(buf);
	return err;
}

/* bpffs must be mounted for pins, as bpftool does it.  Under `ip netns
 * exec` /sys is a fresh sysfs without it; a bpffs mounted there lives only
 * in that process's mount namespace, so say so. */
static int bpffs_ensure(void)
{
	struct stat self_ns, init_ns;
	struct statfs st;
	int err;

	if (statfs(BPFFS_ROOT, &st) < 0) {
		err = -errno;
		iam_err("%s: %s (is sysfs mounted?)", BPFFS_ROOT,
			strerror(-err));
		return err;
	}
	if ((unsigned long)st.f_type == BPF_FS_MAGIC)
		return 0;
	if (mount("bpf", BPFFS_ROOT, "bpf", MS_NOSUID | MS_NODEV | MS_NOEXEC,
		  "mode=0700") < 0) {
		err = -errno;
		iam_err("cannot mount bpffs on %s: %s", BPFFS_ROOT,
			strerror(-err));
		return err;
	}
	iam_info("mounted bpffs on %s", BPFFS_ROOT);
	if (!stat("/proc/self/ns/mnt", &self_ns) &&
	    !stat("/proc/1/ns/mnt", &init_ns) &&
	    self_ns.st_ino != init_ns.st_ino)
		iam_warn("this process has its own mount namespace (ip netns "
			 "exec?): pins under %s are visible only inside it; "
			 "start with `nsenter --net=/run/netns/NAME` to share "
			 "them with iamctl and bpftool",
			 IAM_BPFFS_DIR);
	return 0;
}

/* Make an empty pin directory for the instance.  Pins found there were
 * left by an agent of this instance that died without cleaning up: the
 * caller holds the instance lock, so no live agent owns them. */
static int pin_dir_prepare(const char *dir)
{
	struct dirent *de;
	int n = 0, err;
	DIR *d;

	if (mkdir(IAM_BPFFS_DIR, 0755) < 0 && errno != EEXIST) {
		err = -errno;
		iam_err("mkdir %s: %s", IAM_BPFFS_DIR, strerror(-err));
		return err;
	}
	d = opendir(dir);
	if (d) {
		while ((de = readdir(d))) {
			if (!strcmp(de->d_name, ".") ||
			    !strcmp(de->d_name, ".."))
				continue;
			if (unlinkat(dirfd(d), de->d_name, 0) < 0) {
				err = -errno;
				iam_err("cannot remove stale pin %s/%s: %s",
					dir, de->d_name, strerror(-err));
				closedir(d);
				return err;
			}
			n++;
		}
		closedir(d);
		if (n)
			iam_warn("replaced %d stale pins in %s (an agent of "
				 "this instance did not stop cleanly)",
				 n, dir);
		return 0;
	}
	if (errno != ENOENT) {
		err = -errno;
		iam_err("%s: %s", dir, strerror(-err));
		return err;
	}
	if (mkdir(dir, 0700) < 0) {
		err = -errno;
		iam_err("mkdir %s: %s", dir, strerror(-err));
		return err;
	}
	return 0;
}

static void unpin_all(struct iam_maps *m)
{
	struct bpf_map *maps[NMAPS];

	all_maps(m->skel, maps);
	for (int i = 0; i < NMAPS; i++) {
		char path[sizeof(m->dir) + 32];

		snprintf(path, sizeof(path), "%s/%s", m->dir,
			 bpf_map__name(maps[i]));
		if (unlink(path) < 0 && errno != ENOENT)
			iam_warn("cannot remove pin %s: %s", path,
				 strerror(errno));
	}
	if (rmdir(m->dir) < 0 && errno != ENOENT)
		iam_warn("cannot remove %s: %s", m->dir, strerror(errno));
	m->pinned = false;
}

static int pin_all(struct iam_maps *m)
{
	struct bpf_map *maps[NMAPS];
	int err;

	all_maps(m->skel, maps);
	m->pinned = true;
	for (int i = 0; i < NMAPS; i++) {
		char path[sizeof(m->dir) + 32];

		snprintf(path, sizeof(path), "%s/%s", m->dir,
			 bpf_map__name(maps[i]));
		err = bpf_map__pin(maps[i], path);
		if (err) {
			iam_err("cannot pin %s: %s", path, strerror(-err));
			unpin_all(m);
			return err;
		}
	}
	return 0;
}

/* The kernel driver of ifname ("veth", "mlx5_core", ...). */
static int if_driver(const char *ifname, char *buf, size_t len)
{
	struct ethtool_drvinfo info = { .cmd = ETHTOOL_GDRVINFO };
	struct ifreq ifr;
	int fd, err = 0;

	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	ifr.ifr_data = (void *)&info;
	if (ioctl(fd, SIOCETHTOOL, &ifr) < 0)
		err = -errno;
	else
		snprintf(buf, len, "%.*s", (int)sizeof(info.driver),
			 info.driver);
	close(fd);
	return err;
}

static int link_xdp(struct iam_maps *m, int ifindex, uint32_t flags)
{
	LIBBPF_OPTS(bpf_link_create_opts, opts, .flags = flags);
	int fd;

	fd = bpf_link_create(bpf_program__fd(m->skel->progs.iam_xdp), ifindex,
			     BPF_XDP, &opts);
	if (fd < 0)
		return -errno;
	m->link_fd = fd;
	m->mode = flags == XDP_FLAGS_DRV_MODE ? "native" : "generic";
	return 0;
}

static int attach(struct iam_maps *m, const char *ifname,
		  enum iam_xdp_mode mode)
{
	char drv[64] = "unknown";
	int ifindex, err;

	ifindex = (int)if_nametoindex(ifname);
	if (!ifindex) {
		err = -errno;
		iam_err("interface %s: %s", ifname, strerror(-err));
		return err;
	}
	snprintf(m->ifname, sizeof(m->ifname), "%s", ifname);
	if_driver(ifname, drv, sizeof(drv));
	switch (mode) {
	case IAM_XDP_NATIVE:
		err = link_xdp(m, ifindex, XDP_FLAGS_DRV_MODE);
		break;
	case IAM_XDP_GENERIC:
		err = link_xdp(m, ifindex, XDP_FLAGS_SKB_MODE);
		break;
	case IAM_XDP_AUTO:
	default:
		if (!strcmp(drv, "veth")) {
			iam_info("XDP on %s: generic mode (veth: native XDP "
				 "slows TCP on a veth about 3x)",
				 ifname);
			err = link_xdp(m, ifindex, XDP_FLAGS_SKB_MODE);
			break;
		}
		err = link_xdp(m, ifindex, XDP_FLAGS_DRV_MODE);
		if (err && err != -EBUSY && err != -EEXIST) {
			iam_info("XDP on %s: native mode not available "
				 "(driver %s: %s), using generic mode",
				 ifname, drv, strerror(-err));
			err = link_xdp(m, ifindex, XDP_FLAGS_SKB_MODE);
		} else if (!err) {
			iam_info("XDP on %s: native mode (driver %s)", ifname,
				 drv);
		}
		break;
	}
	if (err == -EBUSY || err == -EEXIST)
		iam_err("cannot attach XDP to %s: it already has an XDP "
			"program (another agent on it? `ip link set dev %s "
			"xdp off` removes a stale one)",
			ifname, ifname);
	else if (err)
		iam_err("cannot attach XDP to %s (driver %s, %s mode): %s",
			ifname, drv,
			mode == IAM_XDP_NATIVE ? "native" : "generic",
			strerror(-err));
	else if (mode != IAM_XDP_AUTO)
		iam_info("XDP on %s: %s mode, as asked", ifname, m->mode);
	return err;
}

static int check_config(const struct iam_maps_config *c, const char *inst)
{
	static const struct in6_addr any = IN6ADDR_ANY_INIT;

	if (iam_maps_instance_valid(inst)) {
		iam_err("bad instance name \"%s\": 1 to %d characters of "
			"A-Z a-z 0-9 _ . -",
			inst, IAM_INSTANCE_MAX - 1);
		return -EINVAL;
	}
	if (c->m2i_slots > IAM_M2I_SLOTS_MAX) {
		iam_err("mem-to-ip slots %u: at most %u", c->m2i_slots,
			IAM_M2I_SLOTS_MAX);
		return -EINVAL;
	}
	if (c->pool_blocks > IAM_POOL_BLOCKS_MAX) {
		iam_err("pool of %u blocks: at most %u", c->pool_blocks,
			IAM_POOL_BLOCKS_MAX);
		return -EINVAL;
	}
	if (c->block_shift && (c->block_shift < IAM_BLOCK_SHIFT_MIN ||
			       c->block_shift > IAM_BLOCK_SHIFT_MAX)) {
		iam_err("block shift %u: must be %d to %d (4 KiB to 2 MiB)",
			c->block_shift, IAM_BLOCK_SHIFT_MIN,
			IAM_BLOCK_SHIFT_MAX);
		return -EINVAL;
	}
	if (!memcmp(&c->self, &any, sizeof(any))) {
		iam_err("the agent's own address is unset (::)");
		return -EINVAL;
	}
	if (memcmp(c->self.s6_addr, c->net, 6) ||
	    (uint32_t)be64_at(c->self.s6_addr + 2) != c->host) {
		char buf[INET6_ADDRSTRLEN];

		iam_err("the agent's address %s is not in its network and "
			"host (%02x%02x:%02x%02x:%02x%02x:%04x:%04x::/80)",
			fmt_in6(&c->self, buf), c->net[0], c->net[1], c->net[2],
			c->net[3], c->net[4], c->net[5], c->host >> 16,
			c->host & 0xffff);
		return -EINVAL;
	}
	if (c->mode != IAM_XDP_AUTO && c->mode != IAM_XDP_NATIVE &&
	    c->mode != IAM_XDP_GENERIC) {
		iam_err("unknown XDP mode %d", (int)c->mode);
		return -EINVAL;
	}
	return 0;
}

int iam_maps_open(const struct iam_maps_config *cfg, struct iam_maps **out)
{
	const char *inst = cfg->instance ? cfg->instance : IAM_INSTANCE_DEFAULT;
	struct iam_maps *m;
	int err;

	*out = NULL;
	err = check_config(cfg, inst);
	if (err)
		return err;
	m = calloc(1, sizeof(*m));
	if (!m)
		return -ENOMEM;
	m->link_fd = -1;
	m->mode = "none";
	m->m2i_slots = cfg->m2i_slots ? cfg->m2i_slots : IAM_M2I_SLOTS;
	m->pool_blocks_max = cfg->pool_blocks ? cfg->pool_blocks :
						IAM_POOL_BLOCKS_DEFAULT;
	m->next_slot = 1;
	memcpy(m->net_host, cfg->net, 6);
	for (int i = 0; i < 4; i++)
		m->net_host[6 + i] = (uint8_t)(cfg->host >> (24 - 8 * i));
	memcpy(m->local.self, &cfg->self, sizeof(m->local.self));
	m->local.flags = IAM_LOCAL_SELF;
	m->local.self_policy = IAM_POLICY_PING;
	snprintf(m->dir, sizeof(m->dir), "%s/%s", IAM_BPFFS_DIR, inst);
	libbpf_set_print(libbpf_print);

	m->skel = iam_xdp__open();
	if (!m->skel) {
		err = -errno;
		iam_err("cannot open the XDP object: %s", strerror(-err));
		goto err_free;
	}
	m->skel->rodata->iam_block_shift =
		cfg->block_shift ? cfg->block_shift : IAM_BLOCK_SHIFT_DEFAULT;
	m->skel->rodata->iam_bgp_port = cfg->bgp_port ? cfg->bgp_port :
							IAM_PORT_BGP;
	m->skel->rodata->iam_ctrl_port = cfg->ctrl_port ? cfg->ctrl_port :
							  IAM_PORT_CTRL;
	m->skel->rodata->iam_data_port = cfg->data_port ? cfg->data_port :
							  IAM_PORT_DATA;
	err = bpf_map__set_max_entries(m->skel->maps.mem_to_ip, m->m2i_slots);
	if (!err)
		err = bpf_map__set_max_entries(m->skel->maps.iam_blocks,
					       m->pool_blocks_max);
	if (!err)
		err = bpf_map__set_max_entries(m->skel->maps.iam_access,
					       m->pool_blocks_max + 1);
	if (err)
		goto err_skel;
	err = iam_xdp__load(m->skel);
	if (err) {
		iam_err("cannot load the XDP program: %s (-v shows the "
			"verifier's log)",
			strerror(-err));
		goto err_skel;
	}

	m->m2i = map_values(m->skel->maps.mem_to_ip,
			    sizeof(struct iam_m2i_entry), m->m2i_slots,
			    &m->m2i_len);
	if (!m->m2i) {
		err = -errno;
		goto err_skel;
	}
	m->blocks = map_values(m->skel->maps.iam_blocks,
			       sizeof(struct iam_block_ref), m->pool_blocks_max,
			       &m->blocks_len);
	if (!m->blocks) {
		err = -errno;
		goto err_unmap_m2i;
	}
	m->access = map_values(m->skel->maps.iam_access,
			       sizeof(struct iam_access_entry),
			       m->pool_blocks_max + 1, &m->access_len);
	if (!m->access) {
		err = -errno;
		goto err_unmap_blocks;
	}
	err = iam_maps_prefix_set(m, &cfg->self, 128, IAM_KIND_LOCAL_CTRL,
				  IAM_POLICY_PING);
	if (err)
		goto err_unmap_access;

	err = bpffs_ensure();
	if (err)
		goto err_unmap_access;
	err = pin_dir_prepare(m->dir);
	if (err)
		goto err_unmap_access;
	err = pin_all(m); /* removes what it pinned and the dir on failure */
	if (err)
		goto err_unmap_access;
	if (cfg->ifname) {
		err = attach(m, cfg->ifname, cfg->mode);
		if (err)
			goto err_unpin;
	}
	iam_dbg("XDP maps pinned in %s (%u mem-to-ip slots, pool of up to "
		"%u blocks)",
		m->dir, m->m2i_slots, m->pool_blocks_max);
	*out = m;
	return 0;

err_unpin:
	unpin_all(m);
err_unmap_access:
	munmap(m->access, m->access_len);
err_unmap_blocks:
	munmap(m->blocks, m->blocks_len);
err_unmap_m2i:
	munmap(m->m2i, m->m2i_len);
err_skel:
	iam_xdp__destroy(m->skel);
err_free:
	free(m);
	return err;
}

void iam_maps_close(struct iam_maps *m)
{
	if (!m)
		return;
	if (m->link_fd >= 0) {
		close(m->link_fd);
		iam_dbg("XDP detached from %s", m->ifname);
	}
	if (m->pinned)
		unpin_all(m);
	if (m->access)
		munmap(m->access, m->access_len);
	if (m->blocks)
		munmap(m->blocks, m->blocks_len);
	if (m->m2i)
		munmap(m->m2i, m->m2i_len);
	iam_xdp__destroy(m->skel);
	free(m);
}

const char *iam_maps_xdp_mode(const struct iam_maps *m)
{
	return m->mode;
}

const char *iam_maps_pin_dir(const struct iam_maps *m)
{
	return m->dir;
}

int iam_maps_prog_fd(const struct iam_maps *m)
{
	return bpf_program__fd(m->skel->progs.iam_xdp);
}

struct iam_m2i_entry *iam_maps_m2i(struct iam_maps *m, uint32_t *nslots)
{
	if (nslots)
		*nslots = m->m2i_slots;
	return m->m2i;
}

int iam_maps_stats(const struct iam_maps *m, struct iam_xdp_stats *out)
{
	return iam_maps_stats_read(bpf_map__fd(m->skel->maps.iam_stats), out);
}

/* The LPM key of addr/plen with the bits past plen cleared, so that set
 * and del of the same prefix always meet. */
static int lpm_key(struct iam_lpm_key *k, const struct in6_addr *addr,
		   uint8_t plen)
{
	if (plen > 128)
		return -EINVAL;
	memset(k, 0, sizeof(*k));
	k->prefixlen = plen;
	for (int i = 0; i < 16; i++) {
		int bits = (int)plen - i * 8;

		if (bits >= 8)
			k->addr[i] = addr->s6_addr[i];
		else if (bits > 0)
			k->addr[i] = addr->s6_addr[i] &
				     (uint8_t)(0xff00 >> bits);
	}
	return 0;
}

static int local_write(struct iam_maps *m)
{
	uint32_t zero = 0;

	if (bpf_map_update_elem(bpf_map__fd(m->skel->maps.iam_local), &zero,
				&m->local, BPF_ANY) < 0) {
		int err = -errno;

		iam_err("cannot update iam_local: %s", strerror(-err));
		return err;
	}
	return 0;
}

static bool is_self(const struct iam_maps *m, const struct iam_lpm_key *k)
{
	return k->prefixlen == 128 &&
	       !memcmp(k->addr, m->local.self, sizeof(k->addr));
}

static bool is_pool(const struct iam_maps *m, const struct iam_lpm_key *k)
{
	return m->local.pool_blocks && k->prefixlen == m->pool_plen &&
	       be64_at(k->addr) == m->local.pool_hi &&
	       be64_at(k->addr + 8) == m->local.pool_lo;
}

/* Forget every allocation: the pool they lie in is gone. */
static void access_clear(struct iam_maps *m)
{
	for (uint32_t i = 0; i < m->pool_blocks_max; i++)
		__atomic_store_n(&m->blocks[i].slot, 0, __ATOMIC_RELEASE);
	for (uint32_t i = 0; i <= m->pool_blocks_max; i++)
		__atomic_store_n(&m->access[i].rights, 0, __ATOMIC_RELEASE);
	memset(m->access, 0,
	       (size_t)(m->pool_blocks_max + 1) * sizeof(*m->access));
	m->next_slot = 1;
}

/* Check and enter the pool k, as iam_local will hold it. */
static int pool_check(struct iam_maps *m, const struct iam_lpm_key *k,
		      const struct in6_addr *addr)
{
	char buf[INET6_ADDRSTRLEN], pbuf[INET6_ADDRSTRLEN];
	struct in6_addr cur;

	if (m->local.pool_blocks && !is_pool(m, k)) {
		memset(&cur, 0, sizeof(cur));
		for (int i = 0; i < 8; i++) {
			cur.s6_addr[i] =
				(uint8_t)(m->local.pool_hi >> (56 - 8 * i));
			cur.s6_addr[8 + i] =
				(uint8_t)(m->local.pool_lo >> (56 - 8 * i));
		}
		iam_err("pool %s/%u: this agent already has pool %s/%u (one "
			"pool per agent; delete it first)",
			fmt_in6(addr, buf), k->prefixlen, fmt_in6(&cur, pbuf),
			m->pool_plen);
		return -EEXIST;
	}
	if (k->prefixlen < 128 - IAM_BLOCK_BITS ||
	    memcmp(k->addr, m->net_host, sizeof(m->net_host))) {
		iam_err("pool %s/%u does not lie in this agent's network and "
			"host /80",
			fmt_in6(addr, buf), k->prefixlen);
		return -EINVAL;
	}
	if (128 - k->prefixlen > 31 ||
	    (1u << (128 - k->prefixlen)) > m->pool_blocks_max) {
		iam_err("pool %s/%u has more blocks than the %u the maps were "
			"sized for",
			fmt_in6(addr, buf), k->prefixlen, m->pool_blocks_max);
		return -E2BIG;
	}
	return 0;
}

int iam_maps_prefix_set(struct iam_maps *m, const struct in6_addr *addr,
			uint8_t plen, uint8_t kind, uint8_t policy)
{
	struct iam_prefix_info v = { .kind = kind, .policy = policy };
	struct iam_local old = m->local;
	char buf[INET6_ADDRSTRLEN];
	struct iam_lpm_key k;
	int err;

	if (lpm_key(&k, addr, plen) || kind < IAM_KIND_LOCAL_POOL ||
	    kind >= IAM_KIND_MAX || (policy & ~IAM_POLICY_ALL)) {
		iam_err("bad IAM prefix %s/%u (kind %u, policy %#x)",
			fmt_in6(addr, buf), plen, kind, policy);
		return -EINVAL;
	}
	if (kind == IAM_KIND_LOCAL_POOL) {
		err = pool_check(m, &k, addr);
		if (err)
			return err;
		m->local.pool_hi = be64_at(k.addr);
		m->local.pool_lo = be64_at(k.addr + 8);
		m->local.pool_blocks = 1u << (128 - plen);
		m->local.pool_policy = policy;
		m->pool_plen = plen;
	} else if (is_pool(m, &k)) {
		iam_err("%s/%u is this agent's pool; delete it first",
			fmt_in6(addr, buf), plen);
		return -EEXIST;
	}
	if (is_self(m, &k)) {
		if (kind != IAM_KIND_LOCAL_CTRL) {
			iam_err("%s is this agent's own address",
				fmt_in6(addr, buf));
			return -EEXIST;
		}
		m->local.flags |= IAM_LOCAL_SELF;
		m->local.self_policy = policy;
	}
	err = bpf_map_update_elem(bpf_map__fd(m->skel->maps.iam_prefixes), &k,
				  &v, BPF_ANY);
	if (err < 0) {
		err = -errno;
		iam_err("cannot enter IAM prefix %s/%u: %s", fmt_in6(addr, buf),
			plen, strerror(-err));
		m->local = old;
		return err;
	}
	if (memcmp(&old, &m->local, sizeof(old))) {
		err = local_write(m);
		if (err) {
			bpf_map_delete_elem(
				bpf_map__fd(m->skel->maps.iam_prefixes), &k);
			m->local = old;
		}
	}
	return err;
}

int iam_maps_prefix_del(struct iam_maps *m, const struct in6_addr *addr,
			uint8_t plen)
{
	char buf[INET6_ADDRSTRLEN];
	struct iam_lpm_key k;
	int err;

	if (lpm_key(&k, addr, plen))
		return -EINVAL;
	err = bpf_map_delete_elem(bpf_map__fd(m->skel->maps.iam_prefixes), &k);
	if (err < 0) {
		err = -errno;
		if (err != -ENOENT)
			iam_err("cannot remove IAM prefix %s/%u: %s",
				fmt_in6(addr, buf), plen, strerror(-err));
		return err;
	}
	if (is_self(m, &k)) {
		m->local.flags &= (uint8_t)~IAM_LOCAL_SELF;
		return local_write(m);
	}
	if (is_pool(m, &k)) {
		m->local.pool_hi = 0;
		m->local.pool_lo = 0;
		m->local.pool_blocks = 0;
		m->local.pool_policy = 0;
		err = local_write(m);
		access_clear(m);
	}
	return err;
}

/* The pool blocks [*first, *first + *n) of allocation prefix k; -EINVAL
 * if it is not inside the pool, -ENOENT if there is no pool. */
static int access_blocks(const struct iam_maps *m, const struct iam_lpm_key *k,
			 const struct in6_addr *addr, uint32_t *first,
			 uint32_t *n)
{
	char buf[INET6_ADDRSTRLEN];
	uint64_t idx;

	if (!m->local.pool_blocks) {
		iam_err("allocation %s/%u: no local pool is set",
			fmt_in6(addr, buf), k->prefixlen);
		return -ENOENT;
	}
	idx = be64_at(k->addr + 8) - m->local.pool_lo;
	if (k->prefixlen < m->pool_plen ||
	    be64_at(k->addr) != m->local.pool_hi ||
	    idx >= m->local.pool_blocks) {
		iam_err("allocation %s/%u does not lie in the local pool",
			fmt_in6(addr, buf), k->prefixlen);
		return -EINVAL;
	}
	*first = (uint32_t)idx;
	*n = 1u << (128 - k->prefixlen);
	return 0;
}

static bool access_is(const struct iam_access_entry *e,
		      const struct iam_lpm_key *k)
{
	return e->rights && e->plen == k->prefixlen &&
	       !memcmp(e->prefix, k->addr, sizeof(e->prefix));
}

int iam_maps_access_set(struct iam_maps *m, const struct in6_addr *alloc,
			uint8_t plen, const struct in6_addr *borrower,
			uint8_t rights)
{
	static const struct in6_addr any = IN6ADDR_ANY_INIT;
	char buf[INET6_ADDRSTRLEN], bbuf[INET6_ADDRSTRLEN];
	const uint32_t nslots = m->pool_blocks_max + 1;
	struct iam_access_entry *e;
	uint32_t first, n, slot;
	struct iam_lpm_key k;
	int err;

	if (lpm_key(&k, alloc, plen) ||
	    (rights != IAM_RIGHTS_RO && rights != IAM_RIGHTS_RW) ||
	    !memcmp(borrower, &any, sizeof(any))) {
		iam_err("bad access entry %s/%u -> %s rights %u",
			fmt_in6(alloc, buf), plen, fmt_in6(borrower, bbuf),
			rights);
		return -EINVAL;
	}
	err = access_blocks(m, &k, alloc, &first, &n);
	if (err)
		return err;
	slot = m->blocks[first].slot;
	if (slot && access_is(&m->access[slot], &k)) {
		/* A change of borrower or rights: a packet racing with it
		 * may be judged by a mix of old and new. */
		e = &m->access[slot];
		memcpy(e->borrower, borrower, sizeof(e->borrower));
		__atomic_store_n(&e->rights, rights, __ATOMIC_RELEASE);
		return 0;
	}
	for (uint32_t i = first; i < first + n; i++) {
		slot = m->blocks[i].slot;
		if (slot) {
			struct in6_addr other;

			memcpy(&other, m->access[slot].prefix, sizeof(other));
			iam_err("allocation %s/%u overlaps allocation %s/%u",
				fmt_in6(alloc, buf), plen,
				fmt_in6(&other, bbuf), m->access[slot].plen);
			return -EEXIST;
		}
	}
	/* A free slot exists: each in use holds at least one block. */
	for (slot = m->next_slot; m->access[slot].rights;)
		slot = slot + 1 < nslots ? slot + 1 : 1;
	m->next_slot = slot + 1 < nslots ? slot + 1 : 1;
	e = &m->access[slot];
	memcpy(e->borrower, borrower, sizeof(e->borrower));
	memcpy(e->prefix, k.addr, sizeof(e->prefix));
	e->plen = plen;
	__atomic_store_n(&e->rights, rights, __ATOMIC_RELEASE);
	for (uint32_t i = first; i < first + n; i++)
		__atomic_store_n(&m->blocks[i].slot, slot, __ATOMIC_RELEASE);
	return 0;
}

int iam_maps_access_del(struct iam_maps *m, const struct in6_addr *alloc,
			uint8_t plen)
{
	struct iam_access_entry *e;
	uint32_t first, n, slot;
	struct iam_lpm_key k;
	int err;

	if (lpm_key(&k, alloc, plen))
		return -EINVAL;
	err = access_blocks(m, &k, alloc, &first, &n);
	if (err)
		return err;
	slot = m->blocks[first].slot;
	if (!slot || !access_is(&m->access[slot], &k))
		return -ENOENT;
	for (uint32_t i = first; i < first + n; i++)
		__atomic_store_n(&m->blocks[i].slot, 0, __ATOMIC_RELEASE);
	e = &m->access[slot];
	__atomic_store_n(&e->rights, 0, __ATOMIC_RELEASE);
	memset(e, 0, sizeof(*e));
	return 0;
}
