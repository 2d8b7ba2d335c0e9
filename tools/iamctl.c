// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * iamctl - inspect and drive a running IAM agent.
 *
 *   iamctl [-i NAME] [-v] COMMAND [ARGS...] [--json]
 *
 * Exit status: 0 success, 1 runtime failure, 2 bad usage or bad input.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "iamctl.h"
#include "log.h"

#define IAMCTL_MAX_CMDS 32

static const struct iamctl_cmd *cmds[IAMCTL_MAX_CMDS];
static int ncmds;

void iamctl_register(const struct iamctl_cmd *cmd)
{
	if (ncmds < IAMCTL_MAX_CMDS)
		cmds[ncmds++] = cmd;
}

static int cmd_cmp(const void *a, const void *b)
{
	return strcmp((*(const struct iamctl_cmd *const *)a)->name,
		      (*(const struct iamctl_cmd *const *)b)->name);
}

static void usage(FILE *f)
{
	fprintf(f, "usage: iamctl [-i NAME] [-v] COMMAND [ARGS...] [--json]\n"
		   "\n"
		   "options:\n"
		   "  -i, --instance NAME  the agent instance (default "
		   "\"default\")\n"
		   "  --json               machine-readable output\n"
		   "  -v                   more detail on errors\n"
		   "  -h, --help           this text\n"
		   "\n"
		   "commands:\n");
	for (int i = 0; i < ncmds; i++) {
		char syn[96];

		snprintf(syn, sizeof(syn), "%s %s", cmds[i]->name,
			 cmds[i]->args ? cmds[i]->args : "");
		fprintf(f, "  %-40s %s\n", syn, cmds[i]->summary);
	}
	fprintf(f, "\nexit status: 0 success, 1 runtime failure, 2 bad usage "
		   "or bad input\n");
}

int iamctl_usage_error(const char *cmd, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "iamctl %s: ", cmd);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return IAMCTL_USAGE;
}

int iamctl_fail(const char *cmd, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "iamctl %s: ", cmd);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return IAMCTL_FAIL;
}

/* "-h" or "--help" anywhere after the command asks for its help. */
static bool wants_help(int argc, char **argv)
{
	for (int i = 1; i < argc; i++)
		if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help"))
			return true;
	return false;
}

/* A command's help on stdout: its own if it has one (its run() takes
 * "--help" as its only argument and exits 0), else its synopsis. */
static int cmd_help(const struct iamctl_cmd *cmd, const struct iamctl_ctx *ctx)
{
	char *argv[] = { (char *)cmd->name, "--help", NULL };

	if (cmd->own_help)
		return cmd->run(2, argv, ctx);
	printf("usage: iamctl [-i NAME] %s%s%s [--json]\n  %s\n"
	       "exit status: 0 success, 1 runtime failure, 2 bad usage or "
	       "bad input\n",
	       cmd->name, cmd->args && cmd->args[0] ? " " : "",
	       cmd->args ? cmd->args : "", cmd->summary);
	return IAMCTL_OK;
}

int main(int argc, char **argv)
{
	struct iamctl_ctx ctx = { .instance = "default" };
	char **rest;
	int i, n = 0;

	qsort(cmds, ncmds, sizeof(cmds[0]), cmd_cmp);
	iam_log_set_ident("iamctl");
	iam_log_set_level(IAM_LOG_WARN);
	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "-i") || !strcmp(argv[i], "--instance")) {
			if (++i >= argc) {
				fprintf(stderr, "iamctl: %s needs a name\n",
					argv[i - 1]);
				return IAMCTL_USAGE;
			}
			ctx.instance = argv[i];
		} else if (!strncmp(argv[i], "--instance=", 11)) {
			ctx.instance = argv[i] + 11;
		} else if (!strcmp(argv[i], "--json")) {
			ctx.json = true;
		} else if (!strcmp(argv[i], "-v") || !strcmp(argv[i], "-vv")) {
			ctx.verbose += (int)strlen(argv[i]) - 1;
		} else if (!strcmp(argv[i], "-h") ||
			   !strcmp(argv[i], "--help") ||
			   !strcmp(argv[i], "help")) {
			usage(stdout);
			return IAMCTL_OK;
		} else if (argv[i][0] == '-') {
			fprintf(stderr, "iamctl: unknown option %s\n", argv[i]);
			usage(stderr);
			return IAMCTL_USAGE;
		} else {
			break;
		}
	}
	if (i >= argc) {
		usage(stderr);
		return IAMCTL_USAGE;
	}
	if (!ctx.instance[0] || strchr(ctx.instance, '/')) {
		fprintf(stderr, "iamctl: bad instance name \"%s\"\n",
			ctx.instance);
		return IAMCTL_USAGE;
	}
	iam_log_set_level(IAM_LOG_WARN + ctx.verbose);
	/* --json may come anywhere after the command, as people type it. */
	rest = calloc((size_t)(argc - i + 1), sizeof(*rest));
	if (!rest)
		return IAMCTL_FAIL;
	for (int k = i; k < argc; k++) {
		if (!strcmp(argv[k], "--json"))
			ctx.json = true;
		else
			rest[n++] = argv[k];
	}
	for (int c = 0; c < ncmds; c++) {
		if (!strcmp(cmds[c]->name, rest[0])) {
			int rc;

			if (wants_help(n, rest)) {
				rc = cmd_help(cmds[c], &ctx);
				free(rest);
				return rc;
			}
			rc = cmds[c]->run(n, rest, &ctx);

			free(rest);
			return rc;
		}
	}
	fprintf(stderr, "iamctl: unknown command \"%s\" (see iamctl --help)\n",
		rest[0]);
	free(rest);
	return IAMCTL_USAGE;
}
