// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/* config.c - the speaker's configuration as people write it; see bgp.h. */
#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "bgp/bgp.h"
#include "iam_const.h"
#include "parse.h"

__attribute__((format(printf, 3, 4))) static int cfg_err(char *err, size_t len,
							 const char *fmt, ...)
{
	va_list ap;

	if (err && len) {
		va_start(ap, fmt);
		vsnprintf(err, len, fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

void iam_bgp_config_init(struct iam_bgp_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->listen = true;
	cfg->listen_addr = in6addr_any;
	cfg->listen_port = IAM_PORT_BGP;
	cfg->hold_time = 90; /* RFC 4271 10, suggested */
	cfg->connect_retry_ms = 5000;
	cfg->pool_update_rate = 10;
	cfg->max_prefixes = 100000;
}

/* IPv6, or IPv4 as ::ffff:a.b.c.d; 0 or -EINVAL. */
static int addr_parse(const char *s, struct in6_addr *out)
{
	struct in_addr a4;

	if (inet_pton(AF_INET6, s, out) == 1)
		return 0;
	if (inet_pton(AF_INET, s, &a4) == 1) {
		memset(out, 0, sizeof(*out));
		out->s6_addr[10] = out->s6_addr[11] = 0xff;
		memcpy(&out->s6_addr[12], &a4, 4);
		return 0;
	}
	return -EINVAL;
}

int iam_bgp_router_id_parse(const char *s, uint32_t *out)
{
	struct in_addr a;

	if (!s || inet_pton(AF_INET, s, &a) != 1)
		return -EINVAL;
	if (!a.s_addr)
		return -ERANGE; /* RFC 6286 2.1: non-zero */
	*out = ntohl(a.s_addr);
	return 0;
}

int iam_bgp_peer_parse(const char *s, struct iam_bgp_peer_config *out,
		       char *err, size_t errlen)
{
	char buf[512], *save = NULL, *tok, *pct;
	bool have_as = false;
	uint32_t v;

	memset(out, 0, sizeof(*out));
	out->port = IAM_PORT_BGP;
	if (!s || !*s)
		return cfg_err(err, errlen,
			       "empty peer; expected "
			       "ADDR,as=N[,md5=SECRET][,passive]");
	if (strlen(s) >= sizeof(buf))
		return cfg_err(err, errlen, "peer \"%.32s...\" is too long", s);
	strcpy(buf, s);
	tok = strtok_r(buf, ",", &save);
	if (!tok)
		return cfg_err(err, errlen, "peer \"%s\": no address", s);
	pct = strchr(tok, '%');
	if (pct) {
		*pct++ = 0;
		if (!*pct || strlen(pct) >= IF_NAMESIZE)
			return cfg_err(err, errlen,
				       "peer \"%s\": bad interface after %%",
				       s);
		strcpy(out->ifname, pct);
	}
	if (addr_parse(tok, &out->addr))
		return cfg_err(err, errlen,
			       "peer \"%s\": \"%s\" is not an IPv6 or IPv4 "
			       "address",
			       s, tok);
	if (IN6_IS_ADDR_UNSPECIFIED(&out->addr) ||
	    IN6_IS_ADDR_MULTICAST(&out->addr))
		return cfg_err(err, errlen,
			       "peer \"%s\": %s cannot be a peer's address", s,
			       tok);
	if (IN6_IS_ADDR_LINKLOCAL(&out->addr) && !pct)
		return cfg_err(err, errlen,
			       "peer \"%s\": a link-local address needs "
			       "%%INTERFACE",
			       s);
	while ((tok = strtok_r(NULL, ",", &save))) {
		char *val = strchr(tok, '=');

		if (val)
			*val++ = 0;
		if (!strcmp(tok, "as")) {
			if (!val || iam_parse_u32(val, &v) || !v)
				return cfg_err(err, errlen,
					       "peer \"%s\": as=%s is not an "
					       "AS number (1..4294967295)",
					       s, val ? val : "");
			out->remote_as = v;
			have_as = true;
		} else if (!strcmp(tok, "md5")) {
			if (!val || !*val || strlen(val) > IAM_BGP_MD5_MAX)
				return cfg_err(err, errlen,
					       "peer \"%s\": md5= needs a "
					       "secret of 1..%d characters",
					       s, IAM_BGP_MD5_MAX);
			strcpy(out->md5, val);
		} else if (!strcmp(tok, "passive") && !val) {
			out->passive = true;
		} else if (!strcmp(tok, "enforce-first-as") && !val) {
			out->enforce_first_as = true;
		} else if (!strcmp(tok, "port")) {
			if (!val || iam_parse_u32(val, &v) || !v || v > 65535)
				return cfg_err(err, errlen,
					       "peer \"%s\": port=%s is not a "
					       "TCP port",
					       s, val ? val : "");
			out->port = (uint16_t)v;
		} else if (!strcmp(tok, "source")) {
			if (!val || addr_parse(val, &out->source))
				return cfg_err(err, errlen,
					       "peer \"%s\": source=%s is not "
					       "an address",
					       s, val ? val : "");
			out->has_source = true;
		} else if (!strcmp(tok, "dev")) {
			if (!val || !*val || strlen(val) >= IF_NAMESIZE)
				return cfg_err(err, errlen,
					       "peer \"%s\": dev= needs an "
					       "interface name",
					       s);
			if (pct && strcmp(val, out->ifname))
				return cfg_err(err, errlen,
					       "peer \"%s\": dev=%s and %%%s "
					       "disagree",
					       s, val, out->ifname);
			strcpy(out->ifname, val);
		} else {
			return cfg_err(err, errlen,
				       "peer \"%s\": unknown option \"%s\" "
				       "(known: as=, md5=, passive, port=, "
				       "source=, dev=, enforce-first-as)",
				       s, tok);
		}
	}
	if (!have_as)
		return cfg_err(err, errlen, "peer \"%s\": as=N is required", s);
	if (out->has_source && IN6_IS_ADDR_V4MAPPED(&out->source) !=
				       IN6_IS_ADDR_V4MAPPED(&out->addr))
		return cfg_err(err, errlen,
			       "peer \"%s\": source and peer address are of "
			       "different families",
			       s);
	return 0;
}

int iam_bgp_config_check(const struct iam_bgp_config *cfg, char *err,
			 size_t errlen)
{
	if (!cfg->local_as)
		return cfg_err(err, errlen, "the local AS (--asn) is not set");
	if (!cfg->router_id)
		return cfg_err(err, errlen,
			       "the router id (--router-id) is not set");
	if (cfg->hold_time == 1 || cfg->hold_time == 2)
		return cfg_err(err, errlen,
			       "hold time %u s: must be 0 or at least 3 "
			       "(RFC 4271 4.2)",
			       cfg->hold_time);
	if (cfg->npeers > IAM_BGP_MAX_PEERS)
		return cfg_err(err, errlen, "at most %d peers",
			       IAM_BGP_MAX_PEERS);
	if (cfg->listen && !cfg->listen_port)
		return cfg_err(err, errlen, "listen port 0");
	for (unsigned i = 0; i < cfg->npeers; i++) {
		const struct iam_bgp_peer_config *p = &cfg->peers[i];
		char a[INET6_ADDRSTRLEN];

		inet_ntop(AF_INET6, &p->addr, a, sizeof(a));
		if (!p->remote_as)
			return cfg_err(err, errlen, "peer %s: no AS", a);
		if (p->md5[0] && cfg->listen &&
		    IN6_IS_ADDR_V4MAPPED(&cfg->listen_addr) &&
		    !IN6_IS_ADDR_V4MAPPED(&p->addr))
			return cfg_err(err, errlen,
				       "peer %s: an IPv6 peer cannot reach an "
				       "IPv4 listening address",
				       a);
		for (unsigned j = 0; j < i; j++)
			if (!memcmp(&cfg->peers[j].addr, &p->addr,
				    sizeof(p->addr)) &&
			    !strcmp(cfg->peers[j].ifname, p->ifname))
				return cfg_err(err, errlen,
					       "peer %s is given twice", a);
	}
	return 0;
}

const char *iam_bgp_prefix_str(const struct iam_bgp_prefix *p, char *buf,
			       size_t len)
{
	char a[INET6_ADDRSTRLEN];

	inet_ntop(AF_INET6, &p->addr, a, sizeof(a));
	snprintf(buf, len, "%s/%u", a, p->len);
	return buf;
}

int iam_bgp_prefix_parse(const char *s, struct iam_bgp_prefix *out)
{
	char buf[INET6_ADDRSTRLEN + 8], *slash;
	uint32_t len;

	if (!s || strlen(s) >= sizeof(buf))
		return -EINVAL;
	strcpy(buf, s);
	slash = strchr(buf, '/');
	if (!slash)
		return -EINVAL;
	*slash++ = 0;
	if (iam_parse_u32(slash, &len) || len > 128 ||
	    inet_pton(AF_INET6, buf, &out->addr) != 1)
		return -EINVAL;
	out->len = (uint8_t)len;
	for (unsigned b = len; b < 128; b++)
		if (out->addr.s6_addr[b / 8] & (0x80 >> (b % 8)))
			return -EINVAL;
	return 0;
}

const char *iam_bgp_state_name(enum iam_bgp_state s)
{
	static const char *const names[] = {
		[IAM_BGP_IDLE] = "Idle",
		[IAM_BGP_CONNECT] = "Connect",
		[IAM_BGP_ACTIVE] = "Active",
		[IAM_BGP_OPENSENT] = "OpenSent",
		[IAM_BGP_OPENCONFIRM] = "OpenConfirm",
		[IAM_BGP_ESTABLISHED] = "Established",
	};

	return (unsigned)s < sizeof(names) / sizeof(names[0]) ? names[s] : "?";
}
