// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/* config.c - iam-load's options and config file; see config.h. */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <sched.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "iam_addr.h"
#include "parse.h"

const struct iam_config_opt iam_config_opts[] = {
	{ "dev", "IFACE", "fabric interface (XDP, the agent address)", false },
	{ "instance", "NAME", "instance name (default \"default\")", false },
	{ "pool", "SIZE", "memory to lend, a power of two (e.g. 1G)", false },
	{ "block-size", "SIZE", "block size, 4K..2M, power of two (64K)",
	  false },
	{ "hugepages", NULL, "back the pool with 2 MiB huge pages", false },
	{ "net", "PREFIX48", "network part of addresses (2001:db8:1)", false },
	{ "host", "HEX32", "host part of addresses (c0a8:a010)", false },
	{ "asn", "N", "BGP AS number (four-octet)", false },
	{ "router-id", "A.B.C.D", "BGP identifier (default: the host part)",
	  false },
	{ "peer", "ADDR,as=N[,md5=S][,passive]", "BGP peer", true },
	{ "hold-time", "SECONDS", "BGP hold time offered (90)", false },
	{ "bgp-port", "PORT", "BGP listening port (179)", false },
	{ "pool-update-rate", "N", "V_i re-announcements per second, max (10)",
	  false },
	{ "local-budget", "SIZE|all",
	  "own pool memory local clients may use first (all)", false },
	{ "cache", "SIZE", "IPMem cache: borrowed pages kept resident (64M)",
	  false },
	{ "lease", "DURATION", "lease of borrowed blocks (30s)", false },
	{ "reserve-ttl", "DURATION", "life of unconfirmed reservations (5s)",
	  false },
	{ "map-slots", "N", "mem_to_ip entries (65536)", false },
	{ "xdp-mode", "auto|native|generic", "XDP attach mode (auto)", false },
	{ "transport", "auto|tcp|rdma", "data transport to lenders (auto)",
	  false },
	{ "cpu", "N|any|follow",
	  "CPU of the fault and data threads (follow: the fault thread goes "
	  "to a client pinned to one CPU)",
	  false },
	{ "spin-us", "N", "fault thread busy-poll after a fault, us (0)",
	  false },
	{ "ctrl-port", "PORT", "control protocol port (7410)", false },
	{ "data-port", "PORT", "TCP data transport port (7411)", false },
	{ "rdma-port", "PORT", "rdma_cm port (7412)", false },
	{ "allow-user", "USER|UID", "may use this agent (repeatable)", true },
	{ "allow-group", "GROUP|GID", "may use this agent (repeatable)", true },
};
const unsigned iam_config_nopts =
	sizeof(iam_config_opts) / sizeof(iam_config_opts[0]);

void iam_config_init(struct iam_config *c)
{
	memset(c, 0, sizeof(*c));
	snprintf(c->instance, sizeof(c->instance), "%s", IAM_INSTANCE_DEFAULT);
	c->block_shift = IAM_BLOCK_SHIFT_DEFAULT;
	c->hold_time = 90;
	c->bgp_port = IAM_PORT_BGP;
	c->pool_update_rate = 10;
	c->local_budget = UINT64_MAX;
	c->cache_size = 64ull << 20;
	c->lease_ms = 30000;
	c->reserve_ttl_ms = 5000;
	c->m2i_slots = 65536;
	c->cpu = IAM_CFG_CPU_FOLLOW;
	c->ctrl_port = IAM_PORT_CTRL;
	c->data_port = IAM_PORT_DATA;
	c->rdma_port = 7412;
}

__attribute__((format(printf, 4, 5))) static int
cfg_err(char *err, size_t len, int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, len, fmt, ap);
	va_end(ap);
	return code;
}

static int cfg_port(const char *v, uint16_t *out)
{
	uint32_t p;
	int e = iam_parse_u32(v, &p);

	if (e)
		return e;
	if (!p || p > 65535)
		return -ERANGE;
	*out = (uint16_t)p;
	return 0;
}

static int cfg_duration(const char *v, uint64_t *out)
{
	int e = iam_parse_duration_ms(v, out);

	if (!e && !*out)
		return -ERANGE;
	return e;
}

int iam_config_set(struct iam_config *c, const char *name, const char *v,
		   char *err, size_t errlen)
{
	const struct iam_config_opt *o = NULL;
	uint64_t u64;
	uint32_t u32;
	int e = 0;

	for (unsigned i = 0; i < iam_config_nopts; i++)
		if (!strcmp(iam_config_opts[i].name, name))
			o = &iam_config_opts[i];
	if (!o)
		return cfg_err(err, errlen, -ENOENT, "unknown option \"%s\"",
			       name);
	if (o->arg && (!v || !*v))
		return cfg_err(err, errlen, -EINVAL, "%s needs a value (%s)",
			       name, o->arg);
	if (!o->arg && v)
		return cfg_err(err, errlen, -EINVAL, "%s takes no value", name);

	if (!strcmp(name, "dev")) {
		if (strlen(v) >= sizeof(c->dev) || strchr(v, '/'))
			return cfg_err(err, errlen, -EINVAL,
				       "dev: \"%s\" is not an interface name",
				       v);
		snprintf(c->dev, sizeof(c->dev), "%s", v);
	} else if (!strcmp(name, "instance")) {
		bool ok = *v && strlen(v) < sizeof(c->instance) &&
			  strcmp(v, ".") && strcmp(v, "..");

		for (const char *p = v; ok && *p; p++)
			ok = isalnum((unsigned char)*p) || strchr("_.-", *p);
		if (!ok)
			return cfg_err(err, errlen, -EINVAL,
				       "instance: \"%s\": use 1 to %zu "
				       "characters of A-Z a-z 0-9 _ . -",
				       v, sizeof(c->instance) - 1);
		snprintf(c->instance, sizeof(c->instance), "%s", v);
	} else if (!strcmp(name, "pool")) {
		e = iam_parse_size(v, &u64);
		if (e)
			return cfg_err(err, errlen, e,
				       "pool: \"%s\" is not a size (e.g. 1G)",
				       v);
		c->pool_size = u64;
	} else if (!strcmp(name, "block-size")) {
		unsigned sh;

		e = iam_addr_block_size_parse(v, &sh);
		if (e)
			return cfg_err(err, errlen, e,
				       "block-size: \"%s\" is not a power of "
				       "two from 4K to 2M",
				       v);
		c->block_shift = sh;
	} else if (!strcmp(name, "hugepages")) {
		c->hugepages = true;
	} else if (!strcmp(name, "net")) {
		e = iam_addr_net_parse(v, c->net);
		if (e)
			return cfg_err(err, errlen, e,
				       "net: \"%s\" is not a 48-bit IPv6 "
				       "prefix (e.g. 2001:db8:1)",
				       v);
		c->have_net = true;
	} else if (!strcmp(name, "host")) {
		e = iam_addr_host_parse(v, &c->host);
		if (e)
			return cfg_err(err, errlen, e,
				       "host: \"%s\" is not a 32-bit host part "
				       "(e.g. c0a8:a010)",
				       v);
		c->have_host = true;
	} else if (!strcmp(name, "asn")) {
		e = iam_parse_u32(v, &u32);
		if (e || !u32)
			return cfg_err(err, errlen, e ? e : -ERANGE,
				       "asn: \"%s\" is not an AS number "
				       "1..4294967295",
				       v);
		c->asn = u32;
	} else if (!strcmp(name, "router-id")) {
		struct in_addr a;

		if (inet_pton(AF_INET, v, &a) != 1 || !a.s_addr)
			return cfg_err(err, errlen, -EINVAL,
				       "router-id: \"%s\" is not a dotted quad "
				       "other than 0.0.0.0",
				       v);
		c->router_id = ntohl(a.s_addr);
	} else if (!strcmp(name, "peer")) {
		if (c->npeers >= IAM_CONFIG_MAX_PEERS)
			return cfg_err(err, errlen, -E2BIG,
				       "peer: at most %d peers",
				       IAM_CONFIG_MAX_PEERS);
		if (strlen(v) >= IAM_CONFIG_PEER_LEN)
			return cfg_err(err, errlen, -EINVAL,
				       "peer: \"%.40s...\" is too long", v);
		snprintf(c->peers[c->npeers++], IAM_CONFIG_PEER_LEN, "%s", v);
	} else if (!strcmp(name, "hold-time")) {
		e = iam_parse_u32(v, &u32);
		if (e || (u32 && u32 < 3) || u32 > 65535)
			return cfg_err(err, errlen, e ? e : -ERANGE,
				       "hold-time: \"%s\": 0 or 3..65535 "
				       "seconds (RFC 4271, 4.2)",
				       v);
		c->hold_time = u32;
	} else if (!strcmp(name, "bgp-port")) {
		e = cfg_port(v, &c->bgp_port);
	} else if (!strcmp(name, "pool-update-rate")) {
		e = iam_parse_u32(v, &c->pool_update_rate);
	} else if (!strcmp(name, "local-budget")) {
		if (!strcmp(v, "all")) {
			c->local_budget = UINT64_MAX;
		} else {
			e = iam_parse_size(v, &c->local_budget);
		}
	} else if (!strcmp(name, "cache")) {
		e = iam_parse_size(v, &c->cache_size);
	} else if (!strcmp(name, "lease")) {
		e = cfg_duration(v, &c->lease_ms);
	} else if (!strcmp(name, "reserve-ttl")) {
		e = cfg_duration(v, &c->reserve_ttl_ms);
	} else if (!strcmp(name, "map-slots")) {
		e = iam_parse_u32(v, &c->m2i_slots);
		if (!e && (!c->m2i_slots || c->m2i_slots > (1u << 26)))
			e = -ERANGE;
	} else if (!strcmp(name, "xdp-mode")) {
		if (!strcmp(v, "auto"))
			c->xdp_mode = IAM_CFG_XDP_AUTO;
		else if (!strcmp(v, "native"))
			c->xdp_mode = IAM_CFG_XDP_NATIVE;
		else if (!strcmp(v, "generic"))
			c->xdp_mode = IAM_CFG_XDP_GENERIC;
		else
			e = -EINVAL;
	} else if (!strcmp(name, "transport")) {
		if (!strcmp(v, "auto"))
			c->transport = IAM_CFG_TRANSPORT_AUTO;
		else if (!strcmp(v, "tcp"))
			c->transport = IAM_CFG_TRANSPORT_TCP;
		else if (!strcmp(v, "rdma"))
			c->transport = IAM_CFG_TRANSPORT_RDMA;
		else
			e = -EINVAL;
	} else if (!strcmp(name, "cpu")) {
		if (!strcmp(v, "any")) {
			c->cpu = IAM_CFG_CPU_ANY;
		} else if (!strcmp(v, "follow")) {
			c->cpu = IAM_CFG_CPU_FOLLOW;
		} else {
			e = iam_parse_u32(v, &u32);
			if (!e && u32 >= CPU_SETSIZE)
				e = -ERANGE;
			c->cpu = (int)u32;
		}
	} else if (!strcmp(name, "spin-us")) {
		e = iam_parse_u32(v, &c->spin_us);
		if (!e && c->spin_us > 1000000)
			e = -ERANGE;
	} else if (!strcmp(name, "ctrl-port")) {
		e = cfg_port(v, &c->ctrl_port);
	} else if (!strcmp(name, "data-port")) {
		e = cfg_port(v, &c->data_port);
	} else if (!strcmp(name, "rdma-port")) {
		e = cfg_port(v, &c->rdma_port);
	} else if (!strcmp(name, "allow-user")) {
		struct passwd *pw = getpwnam(v);

		if (c->nallow_uid >= IAM_CONFIG_MAX_ALLOW)
			return cfg_err(err, errlen, -E2BIG,
				       "allow-user: at most %d",
				       IAM_CONFIG_MAX_ALLOW);
		if (pw) {
			c->allow_uid[c->nallow_uid++] = pw->pw_uid;
		} else if (!iam_parse_u32(v, &u32)) {
			c->allow_uid[c->nallow_uid++] = u32;
		} else {
			return cfg_err(err, errlen, -ENOENT,
				       "allow-user: no user \"%s\"", v);
		}
	} else if (!strcmp(name, "allow-group")) {
		struct group *gr = getgrnam(v);

		if (c->nallow_gid >= IAM_CONFIG_MAX_ALLOW)
			return cfg_err(err, errlen, -E2BIG,
				       "allow-group: at most %d",
				       IAM_CONFIG_MAX_ALLOW);
		if (gr) {
			c->allow_gid[c->nallow_gid++] = gr->gr_gid;
		} else if (!iam_parse_u32(v, &u32)) {
			c->allow_gid[c->nallow_gid++] = u32;
		} else {
			return cfg_err(err, errlen, -ENOENT,
				       "allow-group: no group \"%s\"", v);
		}
	}
	if (e)
		return cfg_err(err, errlen, e, "%s: bad value \"%s\" (%s)",
			       name, v, o->arg);
	return 0;
}

int iam_config_parse(struct iam_config *c, const char *text, const char *origin,
		     char *err, size_t errlen)
{
	const char *p = text;
	unsigned lineno = 0;

	while (*p) {
		char line[1024], *s, *name, *val = NULL, *e;
		size_t n = strcspn(p, "\n");
		char msg[512];
		int rc;

		lineno++;
		if (n >= sizeof(line))
			return cfg_err(err, errlen, -EINVAL,
				       "%s:%u: line too long", origin, lineno);
		memcpy(line, p, n);
		line[n] = 0;
		p += n + (p[n] == '\n');
		if (strchr(line, '#') && !strchr(line, '"'))
			*strchr(line, '#') = 0;
		for (s = line; isspace((unsigned char)*s); s++)
			;
		for (e = s + strlen(s); e > s && isspace((unsigned char)e[-1]);
		     e--)
			e[-1] = 0;
		if (!*s)
			continue;
		name = s;
		s += strcspn(s, " \t");
		if (*s) {
			*s++ = 0;
			while (isspace((unsigned char)*s))
				s++;
			val = s;
			if (*val == '"') {
				char *q = strchr(val + 1, '"');

				if (!q || (q[1] && q[1] != '#' &&
					   !isspace((unsigned char)q[1])))
					return cfg_err(err, errlen, -EINVAL,
						       "%s:%u: unbalanced "
						       "quote",
						       origin, lineno);
				*q = 0;
				val++;
			} else if (strpbrk(val, " \t")) {
				return cfg_err(err, errlen, -EINVAL,
					       "%s:%u: %s: one value per line "
					       "(quote values with spaces)",
					       origin, lineno, name);
			}
		}
		rc = iam_config_set(c, name, val, msg, sizeof(msg));
		if (rc)
			return cfg_err(err, errlen, rc, "%s:%u: %s", origin,
				       lineno, msg);
	}
	return 0;
}

int iam_config_load(struct iam_config *c, const char *path, char *err,
		    size_t errlen)
{
	FILE *f = fopen(path, "re");
	char *text;
	size_t n;
	int rc;

	if (!f)
		return cfg_err(err, errlen, -errno, "config file %s: %s", path,
			       strerror(errno));
	text = calloc(1, 1 << 20);
	if (!text) {
		fclose(f);
		return -ENOMEM;
	}
	n = fread(text, 1, (1 << 20) - 1, f);
	rc = ferror(f) ? -EIO : 0;
	if (!rc && !feof(f))
		rc = cfg_err(err, errlen, -EFBIG,
			     "config file %s: larger than 1 MiB", path);
	else if (rc)
		cfg_err(err, errlen, rc, "config file %s: read error", path);
	fclose(f);
	if (!rc) {
		text[n] = 0;
		rc = iam_config_parse(c, text, path, err, errlen);
	}
	free(text);
	return rc;
}

int iam_config_check(const struct iam_config *c, char *err, size_t errlen)
{
	if (!c->dev[0])
		return cfg_err(err, errlen, -EINVAL,
			       "--dev is required: the fabric interface");
	if (!c->pool_size)
		return cfg_err(err, errlen, -EINVAL,
			       "--pool is required: how much memory to lend");
	if (!c->have_net || !c->have_host)
		return cfg_err(err, errlen, -EINVAL,
			       "--net and --host are required: they make "
			       "the agent's addresses (FIG. 2)");
	if (c->pool_size & (c->pool_size - 1) ||
	    c->pool_size < (1ull << c->block_shift))
		return cfg_err(err, errlen, -EINVAL,
			       "--pool must be a power of two of at least "
			       "one block (the pool is one prefix)");
	if (c->npeers && !c->asn)
		return cfg_err(err, errlen, -EINVAL,
			       "--asn is required with --peer");
	if (c->cache_size < 16 * 4096ull)
		return cfg_err(err, errlen, -EINVAL,
			       "--cache must hold at least 16 pages (64K)");
	if (c->lease_ms < 1000)
		return cfg_err(err, errlen, -EINVAL,
			       "--lease must be at least 1s (renewals go "
			       "every third of it)");
	if (c->ctrl_port == c->data_port)
		return cfg_err(err, errlen, -EINVAL,
			       "--ctrl-port and --data-port must differ");
	return 0;
}

static const char *fmt_ms(uint64_t ms, char *buf, size_t len)
{
	if (ms % 3600000 == 0)
		snprintf(buf, len, "%lluh", (unsigned long long)(ms / 3600000));
	else if (ms % 60000 == 0)
		snprintf(buf, len, "%llum", (unsigned long long)(ms / 60000));
	else if (ms % 1000 == 0)
		snprintf(buf, len, "%llus", (unsigned long long)(ms / 1000));
	else
		snprintf(buf, len, "%llums", (unsigned long long)ms);
	return buf;
}

void iam_config_print(const struct iam_config *c, FILE *f)
{
	static const char *const xdp[] = { "auto", "native", "generic" };
	static const char *const tr[] = { "auto", "tcp", "rdma" };
	char b[64];

	fprintf(f, "# iam-load configuration (iam-load --print-config)\n");
	fprintf(f, "instance %s\n", c->instance);
	if (c->dev[0])
		fprintf(f, "dev %s\n", c->dev);
	if (c->pool_size)
		fprintf(f, "pool %s\n",
			iam_fmt_size(c->pool_size, b, sizeof(b)));
	fprintf(f, "block-size %s\n",
		iam_fmt_size(1ull << c->block_shift, b, sizeof(b)));
	if (c->hugepages)
		fprintf(f, "hugepages\n");
	if (c->have_net)
		fprintf(f, "net %s\n", iam_addr_net_fmt(c->net, b, sizeof(b)));
	if (c->have_host)
		fprintf(f, "host %s\n",
			iam_addr_host_fmt(c->host, b, sizeof(b)));
	if (c->asn)
		fprintf(f, "asn %u\n", c->asn);
	if (c->router_id)
		fprintf(f, "router-id %u.%u.%u.%u\n", c->router_id >> 24,
			(c->router_id >> 16) & 255, (c->router_id >> 8) & 255,
			c->router_id & 255);
	for (unsigned i = 0; i < c->npeers; i++)
		fprintf(f,
			strpbrk(c->peers[i], " \t#") ? "peer \"%s\"\n" :
						       "peer %s\n",
			c->peers[i]);
	fprintf(f, "hold-time %u\n", c->hold_time);
	fprintf(f, "bgp-port %u\n", c->bgp_port);
	fprintf(f, "pool-update-rate %u\n", c->pool_update_rate);
	if (c->local_budget == UINT64_MAX)
		fprintf(f, "local-budget all\n");
	else
		fprintf(f, "local-budget %s\n",
			iam_fmt_size(c->local_budget, b, sizeof(b)));
	fprintf(f, "cache %s\n", iam_fmt_size(c->cache_size, b, sizeof(b)));
	fprintf(f, "lease %s\n", fmt_ms(c->lease_ms, b, sizeof(b)));
	fprintf(f, "reserve-ttl %s\n", fmt_ms(c->reserve_ttl_ms, b, sizeof(b)));
	fprintf(f, "map-slots %u\n", c->m2i_slots);
	fprintf(f, "xdp-mode %s\n", xdp[c->xdp_mode]);
	fprintf(f, "transport %s\n", tr[c->transport]);
	if (c->cpu == IAM_CFG_CPU_FOLLOW)
		fprintf(f, "cpu follow\n");
	else if (c->cpu < 0)
		fprintf(f, "cpu any\n");
	else
		fprintf(f, "cpu %d\n", c->cpu);
	fprintf(f, "spin-us %u\n", c->spin_us);
	fprintf(f, "ctrl-port %u\n", c->ctrl_port);
	fprintf(f, "data-port %u\n", c->data_port);
	fprintf(f, "rdma-port %u\n", c->rdma_port);
	for (unsigned i = 0; i < c->nallow_uid; i++)
		fprintf(f, "allow-user %u\n", (unsigned)c->allow_uid[i]);
	for (unsigned i = 0; i < c->nallow_gid; i++)
		fprintf(f, "allow-group %u\n", (unsigned)c->allow_gid[i]);
}
