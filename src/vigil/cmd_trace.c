/* SPDX-License-Identifier: Apache-2.0 */
/*
 * vigil trace DIR FILE [--json] [--html OUT] ...: from a leaked file to
 * the exports and the insiders behind it (include/vigil/trace.h).  The
 * trace is an audit entry of its own ("leak.trace" on the cli chain,
 * with the file's SHA-256 and the counts, never a value), durable
 * before the report is shown.  The report names rows by line and
 * customers by id: nothing of the file is repeated.
 */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <sodium.h>

#include "vigil/audit.h"
#include "vigil/trace.h"
#include "vigil/vault.h"
#include "cli.h"

struct src {
	FILE *fp;
	crypto_hash_sha256_state h;
	uint64_t bytes;
};

static ssize_t
src_read(void *ctx, void *buf, size_t n)
{
	struct src *s = ctx;
	size_t got = fread(buf, 1, n, s->fp);

	if (got == 0 && ferror(s->fp))
		return -1;
	crypto_hash_sha256_update(&s->h, buf, got);
	s->bytes += got;
	return (ssize_t)got;
}

static void
progress(void *ctx, const char *stage, uint64_t n)
{
	(void)ctx;
	fprintf(stderr, "\rvigil trace: %llu %s", (unsigned long long)n,
	    stage);
}

/*-----------------------------------------------------------------------------
 * The terminal table
 */

static const char *
str(const json_t *o, const char *k)
{
	const char *s = json_string_value(json_object_get(o, k));

	return s != NULL ? s : "";
}

static long long
num(const json_t *o, const char *k)
{
	return (long long)json_integer_value(json_object_get(o, k));
}

static double
real(const json_t *o, const char *k)
{
	return json_number_value(json_object_get(o, k));
}

/* "3.2e-14" from a log10, exact beyond double's range. */
static void
pfmt(char *out, size_t cap, double log10_p)
{
	double e, m;

	if (log10_p >= -3) {
		snprintf(out, cap, "%.3f", pow(10, log10_p));
		return;
	}
	e = floor(log10_p);
	m = pow(10, log10_p - e);
	snprintf(out, cap, "%.1fe%.0f", m, e);
}

static void
fields_text(char *out, size_t cap, const json_t *a)
{
	size_t i, used = 0;

	out[0] = '\0';
	for (i = 0; i < json_array_size(a) && used < cap; i++)
		used += (size_t)snprintf(out + used, cap - used, "%s%s",
		    i ? "," : "", json_string_value(json_array_get(a, i)));
}

static void
print_table(const json_t *r)
{
	const json_t *file = json_object_get(r, "file");
	const json_t *lay = json_object_get(file, "layout");
	const json_t *cols = json_object_get(lay, "columns");
	const json_t *ex = json_object_get(r, "exports");
	const json_t *su = json_object_get(r, "suspects");
	const json_t *ri = json_object_get(r, "rings");
	const json_t *ur = json_object_get(r, "unmatched_reasons");
	char p[32], f[64];
	size_t i;

	printf("file: %lld rows, delimiter '%s', %s header; columns:",
	    num(file, "rows"), str(lay, "delimiter"),
	    json_is_true(json_object_get(lay, "header")) ? "a" : "no");
	for (i = 0; i < json_array_size(cols); i++) {
		const json_t *c = json_array_get(cols, i);

		printf(" %lld=%s(%s)", num(c, "column"), str(c, "type"),
		    str(c, "how"));
	}
	printf("\nmatched: %lld rows to %lld customers; unmatched: %lld "
	    "(not found %lld, no indexed value %lld, unreadable %lld)\n",
	    num(r, "matched"), num(r, "customers"), num(r, "unmatched"),
	    num(ur, "not_found"), num(ur, "no_indexed_value"),
	    num(ur, "unreadable"));
	printf("honeytokens: %lld rows; canaries: %lld rows; principals "
	    "tested: %lld; alpha %g\n", num(r, "honey_rows"),
	    num(r, "canary_rows"), num(r, "principals_tested"),
	    real(r, "alpha"));
	if (json_array_size(ex) > 0) {
		printf("\n%-28s %-20s %-16s %8s %8s %8s %10s  %s\n", "export",
		    "recipient", "consumer", "rows", "overlap", "canaries",
		    "p_value", "named");
		for (i = 0; i < json_array_size(ex); i++) {
			const json_t *x = json_array_get(ex, i);

			pfmt(p, sizeof(p), real(x, "log10_p_value"));
			printf("%-28s %-20s %-16s %8lld %8lld %8lld %10s  %s\n",
			    str(x, "id"), str(x, "recipient"),
			    str(x, "consumer"), num(x, "rows"),
			    num(x, "overlap"), num(x, "canary_hits"), p,
			    json_is_true(json_object_get(x, "named")) ?
			    (num(x, "canary_hits") > 0 ? "yes (canary)" :
			    "yes") : "no");
		}
	}
	printf("\n%-3s %-24s %-16s %9s %9s %9s %10s %-6s %s\n", "#",
	    "principal", "org", "overlap", "accessed", "expected", "p_value",
	    "named", "fields");
	for (i = 0; i < json_array_size(su); i++) {
		const json_t *s = json_array_get(su, i);

		pfmt(p, sizeof(p), real(s, "log10_p_value"));
		fields_text(f, sizeof(f), json_object_get(s, "fields"));
		printf("%-3zu %-24s %-16s %9lld %9lld %9.2f %10s %-6s %s%s\n",
		    i + 1, str(s, "principal"), str(s, "org"),
		    num(s, "overlap"), num(s, "accessed"),
		    real(s, "expected"), p,
		    json_is_true(json_object_get(s, "named")) ? "yes" : "no",
		    f, num(s, "honey") > 0 ? " (honeytoken)" : "");
	}
	if (json_array_size(su) == 0)
		printf("    (nobody revealed a leaked customer's leaked fields)\n");
	for (i = 0; i < json_array_size(ri); i++) {
		const json_t *g = json_array_get(ri, i);

		printf("\nring: %zu principals explain %lld of the leaked "
		    "customers (%.1f%%)\n",
		    json_array_size(json_object_get(g, "members")),
		    num(g, "explained"), 100 * real(g, "share"));
	}
	printf("\n%s\n", str(r, "wording"));
}

/*-----------------------------------------------------------------------------
 * HTML
 */

static void
esc(FILE *f, const char *s)
{
	for (; *s != '\0'; s++) {
		switch (*s) {
		case '<': fputs("&lt;", f); break;
		case '>': fputs("&gt;", f); break;
		case '&': fputs("&amp;", f); break;
		case '"': fputs("&quot;", f); break;
		default: fputc(*s, f);
		}
	}
}

static int
write_html(const char *path, const json_t *r)
{
	const json_t *ex = json_object_get(r, "exports");
	const json_t *su = json_object_get(r, "suspects");
	char p[32], f[64];
	size_t i, k;
	FILE *o = fopen(path, "w");

	if (o == NULL)
		return -1;
	fputs("<!doctype html><html><head><meta charset=\"utf-8\">"
	    "<title>vigil leak trace</title><style>body{font:14px sans-serif;"
	    "margin:2em;max-width:70em}table{border-collapse:collapse;"
	    "margin:1em 0}td,th{border:1px solid #ccc;padding:3px 8px;"
	    "text-align:left}.y{color:#a00;font-weight:bold}"
	    "details{margin:.3em 0}code{font-size:12px}</style></head><body>"
	    "<h1>Leak trace</h1>", o);
	fprintf(o, "<p>%lld rows: %lld matched to %lld customers, %lld "
	    "unmatched; %lld honeytoken rows; %lld canary rows; %lld "
	    "principals tested at alpha %g.</p>",
	    num(json_object_get(r, "file"), "rows"), num(r, "matched"),
	    num(r, "customers"), num(r, "unmatched"), num(r, "honey_rows"),
	    num(r, "canary_rows"), num(r, "principals_tested"),
	    real(r, "alpha"));
	fputs("<h2>Exports</h2><table><tr><th>export</th><th>recipient</th>"
	    "<th>consumer</th><th>asked by</th><th>rows</th><th>overlap</th>"
	    "<th>canaries</th><th>p_value</th><th>named</th></tr>", o);
	for (i = 0; i < json_array_size(ex); i++) {
		const json_t *x = json_array_get(ex, i);
		bool named = json_is_true(json_object_get(x, "named"));

		pfmt(p, sizeof(p), real(x, "log10_p_value"));
		fputs("<tr><td>", o);
		esc(o, str(x, "id"));
		fputs("</td><td>", o);
		esc(o, str(x, "recipient"));
		fputs("</td><td>", o);
		esc(o, str(x, "consumer"));
		fputs("</td><td>", o);
		esc(o, str(x, "principal"));
		fprintf(o, "</td><td>%lld</td><td>%lld</td><td>%lld</td>"
		    "<td>%s</td><td class=\"%s\">%s</td></tr>",
		    num(x, "rows"), num(x, "overlap"), num(x, "canary_hits"),
		    p, named ? "y" : "", named ? "yes" : "no");
	}
	fputs("</table><h2>Suspects</h2><table><tr><th>#</th><th>principal"
	    "</th><th>org</th><th>overlap</th><th>accessed</th><th>expected"
	    "</th><th>p_value</th><th>named</th><th>fields</th><th>from</th>"
	    "<th>to</th></tr>", o);
	for (i = 0; i < json_array_size(su); i++) {
		const json_t *s = json_array_get(su, i);
		bool named = json_is_true(json_object_get(s, "named"));

		pfmt(p, sizeof(p), real(s, "log10_p_value"));
		fields_text(f, sizeof(f), json_object_get(s, "fields"));
		fprintf(o, "<tr><td>%zu</td><td>", i + 1);
		esc(o, str(s, "principal"));
		fputs("</td><td>", o);
		esc(o, str(s, "org"));
		fprintf(o, "</td><td>%lld</td><td>%lld</td><td>%.2f</td>"
		    "<td>%s</td><td class=\"%s\">%s</td><td>", num(s,
		    "overlap"), num(s, "accessed"), real(s, "expected"), p,
		    named ? "y" : "", named ? "yes" : "no");
		esc(o, f);
		fprintf(o, "</td><td>%s</td><td>%s</td></tr>", str(s, "first"),
		    str(s, "last"));
	}
	fputs("</table><h2>Evidence</h2>", o);
	for (i = 0; i < json_array_size(su); i++) {
		const json_t *s = json_array_get(su, i);
		const json_t *ev = json_object_get(s, "evidence");

		if (!json_is_true(json_object_get(s, "named")))
			continue;
		fputs("<h3>", o);
		esc(o, str(s, "principal"));
		fprintf(o, "</h3><p>%zu of %lld audit entries, each with its "
		    "inclusion proof:</p><table><tr><th>chain</th><th>seq</th>"
		    "<th>time</th><th>customer</th><th>fields</th><th>proof"
		    "</th></tr>", json_array_size(ev), num(s, "overlap"));
		for (k = 0; k < json_array_size(ev); k++) {
			const json_t *e = json_array_get(ev, k);
			const json_t *pr = json_object_get(e, "proof");
			char *pj = pr != NULL ? json_dumps(pr, JSON_INDENT(1)) :
			    NULL;

			fields_text(f, sizeof(f), json_object_get(e, "fields"));
			fputs("<tr><td>", o);
			esc(o, str(e, "chain"));
			fprintf(o, "</td><td>%lld</td><td>%s</td><td><code>",
			    num(e, "seq"), str(e, "time"));
			esc(o, str(e, "customer"));
			fputs("</code></td><td>", o);
			esc(o, f);
			fputs(json_is_true(json_object_get(e, "honey")) ?
			    " (honeytoken)" : "", o);
			fputs("</td><td>", o);
			if (pj != NULL) {
				fputs("<details><summary>proof</summary><pre>",
				    o);
				esc(o, pj);
				fputs("</pre></details>", o);
			} else {
				esc(o, str(e, "proof_missing"));
			}
			fputs("</td></tr>", o);
			free(pj);
		}
		fputs("</table>", o);
	}
	fputs("<h2>What is proof and what is likelihood</h2><p>", o);
	esc(o, str(r, "wording"));
	fputs("</p></body></html>\n", o);
	return fclose(o) == 0 ? 0 : -1;
}

/*-----------------------------------------------------------------------------
 * The command
 */

int
cmd_trace(int argc, char **argv, struct vg_cli *cli)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "html", required_argument, NULL, 'H' },
		{ "columns", required_argument, NULL, 'c' },
		{ "delimiter", required_argument, NULL, 'd' },
		{ "header", required_argument, NULL, 'h' },
		{ "no-header", no_argument, NULL, 'N' },
		{ "from", required_argument, NULL, 'f' },
		{ "to", required_argument, NULL, 't' },
		{ "alpha", required_argument, NULL, 'a' },
		{ "evidence", required_argument, NULL, 'e' },
		{ "suspects", required_argument, NULL, 's' },
		{ "no-proofs", no_argument, NULL, 'P' },
		{ NULL, 0, NULL, 0 },
	};
	struct vg_leak_trace_opts o;
	struct vg_audit_entry e = { 0 };
	struct vg_audit *a = NULL;
	struct vg_vault *v = NULL;
	struct src in;
	unsigned char digest[crypto_hash_sha256_BYTES];
	char err[512] = "", detail[VG_AUDIT_STR_MAX + 1], hex[65];
	const char *dir, *file, *html = NULL;
	unsigned long long n;
	json_t *rep = NULL;
	char *end;
	int c, rc, status;

	vg_leak_trace_opts_default(&o);
	optind = 1;
	while ((c = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
		switch (c) {
		case 'j':
			cli->json = true;
			break;
		case 'H':
			html = optarg;
			break;
		case 'c':
			o.leak.columns = optarg;
			break;
		case 'd':
			if (strcmp(optarg, "tab") == 0 ||
			    strcmp(optarg, "\\t") == 0)
				o.leak.delimiter = '\t';
			else if (strlen(optarg) == 1 &&
			    strchr(",;|\t", optarg[0]) != NULL)
				o.leak.delimiter = optarg[0];
			else
				return cli_usage(cli, "--delimiter takes , ; | "
				    "or tab");
			break;
		case 'h':
			if (strcmp(optarg, "yes") == 0)
				o.leak.header = 1;
			else if (strcmp(optarg, "no") == 0)
				o.leak.header = 0;
			else
				return cli_usage(cli, "--header takes yes or no");
			break;
		case 'N':
			o.leak.header = 0;
			break;
		case 'f':
			if (cli_parse_time(optarg, &o.from_ns) != 0)
				return cli_usage(cli, "--from takes an RFC 3339 "
				    "time or unix seconds");
			break;
		case 't':
			if (cli_parse_time(optarg, &o.to_ns) != 0)
				return cli_usage(cli, "--to takes an RFC 3339 "
				    "time or unix seconds");
			break;
		case 'a':
			errno = 0;
			o.alpha = strtod(optarg, &end);
			if (errno != 0 || *end != '\0' || !(o.alpha > 0) ||
			    !(o.alpha < 0.5))
				return cli_usage(cli, "--alpha takes a number "
				    "above 0 and below 0.5");
			break;
		case 'e':
			if (cli_parse_u64(optarg, &n) != 0 || n < 1 ||
			    n > VG_TRACE_EVIDENCE_MAX)
				return cli_usage(cli, "--evidence takes 1 to %d",
				    VG_TRACE_EVIDENCE_MAX);
			o.evidence_max = (size_t)n;
			break;
		case 's':
			if (cli_parse_u64(optarg, &n) != 0 || n < 1 ||
			    n > 100000)
				return cli_usage(cli, "--suspects takes 1 to "
				    "100000");
			o.suspects_max = (size_t)n;
			break;
		case 'P':
			o.no_proofs = true;
			break;
		default:
			return cli_optfail(cli, c, argv);
		}
	}
	if (argc - optind != 2)
		return cli_usage(cli, "expected a vault directory and a file");
	dir = argv[optind];
	file = argv[optind + 1];
	memset(&in, 0, sizeof(in));
	crypto_hash_sha256_init(&in.h);
	if (strcmp(file, "-") == 0)
		in.fp = stdin;
	else if ((in.fp = fopen(file, "rb")) == NULL)
		return cli_fail(cli, EXIT_DATA, "%s: %s", file, strerror(errno));
	status = cli_open(cli, dir, &v);
	if (status != EXIT_OK)
		goto out;
	rc = vg_leak_trace(v, dir, src_read, &in, &o,
	    cli_tty() ? progress : NULL, NULL, &rep, err, sizeof(err));
	if (cli_tty())
		fprintf(stderr, "\r\033[K");
	if (rc != 0) {
		status = cli_fail(cli, EXIT_DATA, "%s: %s", file, err);
		goto out;
	}
	crypto_hash_sha256_final(&in.h, digest);
	sodium_bin2hex(hex, sizeof(hex), digest, sizeof(digest));
	vg_leak_trace_stamp(rep, hex, detail, sizeof(detail));
	/* Durable before anything is shown. */
	if ((status = cli_audit_open(cli, dir, v, &a)) != EXIT_OK)
		goto out;
	e.action = "leak.trace";
	e.purpose = "investigation";
	e.decision = "allow";
	e.detail = detail;
	status = cli_audit(cli, a, &e);
	status = cli_audit_close(cli, a, status);
	if (status != EXIT_OK)
		goto out;
	if (html != NULL && write_html(html, rep) != 0) {
		status = cli_fail(cli, EXIT_DATA, "%s: cannot write", html);
		goto out;
	}
	if (cli->json) {
		status = cli_print_json(rep);
		rep = NULL;
	} else {
		print_table(rep);
		if (html != NULL)
			printf("wrote %s\n", html);
	}
out:
	json_decref(rep);
	vg_vault_close(v);
	if (in.fp != NULL && in.fp != stdin)
		fclose(in.fp);
	return status;
}
