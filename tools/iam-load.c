// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * iam-load - the IAM agent: lends this host's memory and borrows others'.
 *
 *   iam-load --dev IFACE --pool SIZE --net PREFIX48 --host HEX32 [options]
 *
 * Runs in the foreground until SIGINT or SIGTERM, then withdraws its
 * routes, returns what it borrowed, detaches XDP and removes its pins.
 * Exit status: 0 after a clean stop, 1 on a runtime failure, 2 for bad
 * usage or a bad configuration.  See docs/iam-load.8.
 */
#include <bpf/libbpf.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent.h"
#include "log.h"

enum { OPT_CONFIG = 1000, OPT_PRINT, OPT_HELP, OPT_VERSION };

static void usage(FILE *f)
{
	fprintf(f, "usage: iam-load --dev IFACE --pool SIZE --net PREFIX48 "
		   "--host HEX32 [options]\n\n"
		   "Lend this host's memory to an IAM fabric and serve "
		   "borrowed memory to local processes.\n\noptions:\n");
	for (unsigned i = 0; i < iam_config_nopts; i++) {
		const struct iam_config_opt *o = &iam_config_opts[i];
		char syn[64];

		snprintf(syn, sizeof(syn), "--%s%s%s", o->name,
			 o->arg ? " " : "", o->arg ? o->arg : "");
		if (strlen(syn) > 30)
			fprintf(f, "  %s\n  %-30s %s\n", syn, "", o->help);
		else
			fprintf(f, "  %-30s %s\n", syn, o->help);
	}
	fprintf(f, "  %-30s %s\n", "-c, --config FILE",
		"read settings from FILE (command line wins)");
	fprintf(f, "  %-30s %s\n", "--print-config",
		"print the effective configuration and exit");
	fprintf(f, "  %-30s %s\n", "-v, --verbose", "more output (-vv: trace)");
	fprintf(f, "  %-30s %s\n", "-h, --help", "this text");
	fprintf(f, "\nexit status: 0 clean stop, 1 runtime failure, 2 bad "
		   "usage or configuration\n");
}

int main(int argc, char **argv)
{
	struct option *lo;
	struct iam_config cfg;
	const char *config = NULL;
	bool print = false;
	char err[512];
	int c, rc;

	iam_config_init(&cfg);
	lo = calloc(iam_config_nopts + 5, sizeof(*lo));
	if (!lo)
		return 1;
	for (unsigned i = 0; i < iam_config_nopts; i++) {
		lo[i].name = iam_config_opts[i].name;
		lo[i].has_arg = iam_config_opts[i].arg ? required_argument :
							 no_argument;
		lo[i].val = 2000 + (int)i;
	}
	lo[iam_config_nopts] =
		(struct option){ "config", required_argument, NULL, 'c' };
	lo[iam_config_nopts + 1] =
		(struct option){ "print-config", no_argument, NULL, OPT_PRINT };
	lo[iam_config_nopts + 2] =
		(struct option){ "verbose", no_argument, NULL, 'v' };
	lo[iam_config_nopts + 3] =
		(struct option){ "help", no_argument, NULL, 'h' };

	/* The file first, so that the command line overrides it. */
	opterr = 0;
	while ((c = getopt_long(argc, argv, "c:vh", lo, NULL)) != -1)
		if (c == 'c')
			config = optarg;
	if (config && iam_config_load(&cfg, config, err, sizeof(err))) {
		fprintf(stderr, "iam-load: %s\n", err);
		return 2;
	}
	optind = 1;
	opterr = 1;
	while ((c = getopt_long(argc, argv, "c:vh", lo, NULL)) != -1) {
		switch (c) {
		case 'c':
			break;
		case 'v':
			cfg.verbose++;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case OPT_PRINT:
			print = true;
			break;
		case '?':
			usage(stderr);
			return 2;
		default:
			rc = iam_config_set(&cfg, lo[c - 2000].name, optarg,
					    err, sizeof(err));
			if (rc) {
				fprintf(stderr, "iam-load: --%s\n", err);
				return 2;
			}
		}
	}
	free(lo);
	if (optind < argc) {
		fprintf(stderr, "iam-load: unexpected argument \"%s\"\n",
			argv[optind]);
		return 2;
	}
	if (print) {
		iam_config_print(&cfg, stdout);
		return 0;
	}
	if (iam_config_check(&cfg, err, sizeof(err))) {
		fprintf(stderr, "iam-load: %s\n", err);
		return 2;
	}
	if (cfg.npeers) {
		/* The whole BGP configuration as the agent will hand it to
		 * the speaker (agent_bgp_start), checked before anything is
		 * touched: a peer given twice is bad input (exit 2), not a
		 * runtime failure after XDP is up. */
		struct iam_bgp_config *bc = calloc(1, sizeof(*bc));

		if (!bc)
			return 1;
		iam_bgp_config_init(bc);
		bc->local_as = cfg.asn;
		bc->router_id = cfg.router_id ? cfg.router_id : cfg.host;
		bc->hold_time = (uint16_t)cfg.hold_time;
		bc->npeers = cfg.npeers;
		for (unsigned i = 0; i < cfg.npeers; i++) {
			if (iam_bgp_peer_parse(cfg.peers[i], &bc->peers[i], err,
					       sizeof(err))) {
				fprintf(stderr, "iam-load: --peer %s: %s\n",
					cfg.peers[i], err);
				free(bc);
				return 2;
			}
		}
		if (iam_bgp_config_check(bc, err, sizeof(err))) {
			fprintf(stderr, "iam-load: BGP: %s\n", err);
			free(bc);
			return 2;
		}
		free(bc);
	}
	{
		char ident[64];

		snprintf(ident, sizeof(ident), "iam-load[%s]", cfg.instance);
		iam_log_set_ident(ident);
	}
	iam_log_set_timestamps(1);
	iam_log_set_level(IAM_LOG_INFO + cfg.verbose);
	libbpf_set_print((libbpf_print_fn_t)iam_log_libbpf);
	return iam_agent_run(&cfg);
}
