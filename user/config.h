/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * config.h - iam-load's configuration: command-line options and the
 * config file are one table, so every option has a file form and back.
 *
 * File format (docs/iam-load.8, "CONFIGURATION FILE"): one setting per
 * line, `name value` with the long option's name, `name` alone for a
 * flag; `#` starts a comment; blank lines are ignored; `peer` may repeat.
 * Values may be quoted with "..." to keep spaces.  Command-line options
 * given after --config override the file; repeatable ones add to it.
 *
 *   # /etc/iam/default.conf
 *   dev        eth1
 *   pool       1G
 *   block-size 64K
 *   net        2001:db8:1
 *   host       c0a8:a010
 *   asn        65001
 *   router-id  10.0.0.1
 *   peer       2001:db8:ff::1,as=65000
 *
 * iam_config_print() writes the effective configuration in this format;
 * parsing that output gives the same configuration (the golden test).
 */
#ifndef IAM_CONFIG_H
#define IAM_CONFIG_H

#include <net/if.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "iam_const.h"

#define IAM_CONFIG_MAX_PEERS 64
#define IAM_CONFIG_PEER_LEN 256
#define IAM_CONFIG_MAX_ALLOW 16

enum iam_config_xdp {
	IAM_CFG_XDP_AUTO,
	IAM_CFG_XDP_NATIVE,
	IAM_CFG_XDP_GENERIC
};
enum iam_config_transport {
	IAM_CFG_TRANSPORT_AUTO,
	IAM_CFG_TRANSPORT_TCP,
	IAM_CFG_TRANSPORT_RDMA
};

struct iam_config {
	char instance[IAM_INSTANCE_MAX];
	char dev[IF_NAMESIZE];
	uint64_t pool_size; /* bytes */
	unsigned block_shift;
	bool hugepages;
	uint8_t net[6]; /* network byte order */
	uint32_t host; /* host byte order */
	bool have_net, have_host;

	/* BGP */
	uint32_t asn;
	uint32_t router_id; /* host order; 0: derived from the host part */
	uint32_t hold_time; /* s */
	uint16_t bgp_port;
	uint32_t pool_update_rate; /* V_i re-announcements per second */
	unsigned npeers;
	char peers[IAM_CONFIG_MAX_PEERS][IAM_CONFIG_PEER_LEN];

	/* borrowing and lending */
	uint64_t local_budget; /* bytes of our own pool a borrower here may
				* use; UINT64_MAX: all of it */
	uint64_t cache_size; /* bytes of IPMem cache */
	uint64_t lease_ms; /* lease a borrower asks for */
	uint64_t reserve_ttl_ms; /* life of an unconfirmed reservation */
	uint32_t m2i_slots;
	enum iam_config_xdp xdp_mode;
	enum iam_config_transport transport;
	int cpu; /* CPU for the fault and data threads, or one of: */
#define IAM_CFG_CPU_ANY (-1)
#define IAM_CFG_CPU_FOLLOW (-2) /* the fault thread follows a pinned client */
	uint32_t spin_us; /* fault thread busy-poll after a fault */
	uint16_t ctrl_port, data_port, rdma_port;
	unsigned nallow_uid, nallow_gid;
	uid_t allow_uid[IAM_CONFIG_MAX_ALLOW];
	gid_t allow_gid[IAM_CONFIG_MAX_ALLOW];

	int verbose; /* -v count; not in files */
};

void iam_config_init(struct iam_config *c);
/*
 * Apply one option by its long name ("pool", "peer", ...).  value is NULL
 * for flags.  0, or -EINVAL / -ERANGE / -ENOENT (no such option) with a
 * sentence in err naming the option and what is wrong with the value.
 */
int iam_config_set(struct iam_config *c, const char *name, const char *value,
		   char *err, size_t errlen);
/* Read a config file; errors name the file and line. */
int iam_config_load(struct iam_config *c, const char *path, char *err,
		    size_t errlen);
/* Parse file text (for tests); origin names it in errors. */
int iam_config_parse(struct iam_config *c, const char *text, const char *origin,
		     char *err, size_t errlen);
/* Required options present and values consistent; 0 or -EINVAL. */
int iam_config_check(const struct iam_config *c, char *err, size_t errlen);
/* The effective configuration in file format. */
void iam_config_print(const struct iam_config *c, FILE *f);

/* The option table, for getopt_long and --help. */
struct iam_config_opt {
	const char *name;
	const char *arg; /* NULL for a flag */
	const char *help;
	bool repeat; /* may be given more than once */
};
extern const struct iam_config_opt iam_config_opts[];
extern const unsigned iam_config_nopts;

#endif /* IAM_CONFIG_H */
