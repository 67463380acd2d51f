/* SPDX-License-Identifier: Apache-2.0 */
/*
 * vigil gen-customers --count N [--seed S] [--out FILE]: synthetic
 * customers as CSV (lib/gen.c).
 */
#include <getopt.h>
#include <stdio.h>

#include "vigil/gen.h"
#include "cli.h"

#define GEN_COUNT_MAX 100000000ULL

int
cmd_gen_customers(int argc, char **argv, struct vg_cli *cli)
{
	static const struct option opts[] = {
		{ "count", required_argument, NULL, 'n' },
		{ "seed", required_argument, NULL, 's' },
		{ "out", required_argument, NULL, 'o' },
		{ NULL, 0, NULL, 0 },
	};
	unsigned long long count = 0, seed = 1;
	const char *out = NULL;
	int c, have_count = 0, rc;
	FILE *fp = stdout;

	optind = 1;
	while ((c = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
		switch (c) {
		case 'n':
			if (cli_parse_u64(optarg, &count) != 0 ||
			    count > GEN_COUNT_MAX)
				return cli_usage(cli, "--count takes 0 to %llu",
				    GEN_COUNT_MAX);
			have_count = 1;
			break;
		case 's':
			if (cli_parse_u64(optarg, &seed) != 0)
				return cli_usage(cli, "--seed takes an unsigned "
				    "64-bit integer");
			break;
		case 'o':
			out = optarg;
			break;
		default:
			return cli_optfail(cli, c, argv);
		}
	}
	if (!have_count)
		return cli_usage(cli, "--count is required");
	if (argc != optind)
		return cli_usage(cli, "unexpected argument '%s'", argv[optind]);
	if (out != NULL && (fp = fopen(out, "w")) == NULL)
		return cli_fail(cli, EXIT_DATA, "cannot create '%s'", out);
	rc = vg_gen_write_csv(fp, seed, count);
	if (fflush(fp) != 0)
		rc = VG_EIO;
	if (out != NULL && fclose(fp) != 0)
		rc = VG_EIO;
	if (rc != 0)
		return cli_fail(cli, EXIT_DATA, "cannot write customers: %s",
		    vg_strerror(rc));
	return EXIT_OK;
}
