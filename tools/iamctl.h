/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * iamctl.h - what iamctl's subcommands share.
 *
 * Each subcommand lives in tools/iamctl-NAME.c and registers itself with
 * IAMCTL_CMD(); the dispatcher in iamctl.c parses the global options
 * (-i NAME, --json anywhere, -v) and calls it.  A subcommand returns the
 * exit status: IAMCTL_OK, IAMCTL_FAIL (runtime failure) or IAMCTL_USAGE
 * (bad usage or bad input), as documented in DESIGN.md ("Interfaces").
 */
#ifndef IAMCTL_H
#define IAMCTL_H

#include <stdbool.h>

enum { IAMCTL_OK = 0, IAMCTL_FAIL = 1, IAMCTL_USAGE = 2 };

struct iamctl_ctx {
	const char *instance; /* -i NAME, default "default" */
	bool json; /* --json */
	int verbose; /* -v count */
};

struct iamctl_cmd {
	const char *name;
	const char *args; /* synopsis after the name, for help */
	const char *summary; /* one line */
	/* argv[0] is the subcommand name; --json is already removed. */
	int (*run)(int argc, char **argv, const struct iamctl_ctx *ctx);
	/* run() prints its own help for a lone "--help"; otherwise -h or
	 * --help after the command prints the synopsis above. */
	bool own_help;
};

void iamctl_register(const struct iamctl_cmd *cmd);

#define IAMCTL_CMD(ident, ...)                                               \
	static const struct iamctl_cmd iamctl_cmd_##ident = { __VA_ARGS__ }; \
	__attribute__((constructor)) static void iamctl_reg_##ident(void)    \
	{                                                                    \
		iamctl_register(&iamctl_cmd_##ident);                        \
	}

/* Print "iamctl CMD: message" on stderr and return IAMCTL_USAGE. */
__attribute__((format(printf, 2, 3))) int
iamctl_usage_error(const char *cmd, const char *fmt, ...);
/* Same, returning IAMCTL_FAIL. */
__attribute__((format(printf, 2, 3))) int iamctl_fail(const char *cmd,
						      const char *fmt, ...);

#endif /* IAMCTL_H */
