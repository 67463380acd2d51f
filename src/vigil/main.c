/* SPDX-License-Identifier: Apache-2.0 */
/*
 * vigil, the command-line tool: dispatch to cmd_<verb>() and the help
 * texts.  Offline commands work on a vault directory directly.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <errno.h>
#include <getopt.h>
#include <sys/resource.h>
#include <sys/stat.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif

#include <jansson.h>

#include "vigil/crypto.h"
#include "vigil/vault.h"
#include "cli.h"

const struct vg_cmd vg_cmds[] = {
	{ "init", cmd_init, "create a new vault",
	  "usage: vigil init DIR [--schema FILE]\n"
	  "\n"
	  "Creates a vault in DIR (made with mode 0700; must be empty if it\n"
	  "exists).  The 32-byte master key is taken from VIGIL_MASTER_KEY\n"
	  "(base64) when set, and then no key file is written; otherwise it is\n"
	  "generated and written to DIR/master.key with mode 0600.  Back it up\n"
	  "offline: without it the vault cannot be opened.\n"
	  "\n"
	  "  --schema FILE  field set (see docs/internals/schema.md); the\n"
	  "                 default is name, phone, email, account_id,\n"
	  "                 address, region\n" },
	{ "import", cmd_import, "import customers from a CSV file",
	  "usage: vigil import DIR FILE.csv [--skip-bad REJECTS.csv] [--quiet]\n"
	  "\n"
	  "Imports RFC 4180 CSV whose header names schema fields in any order\n"
	  "(FILE '-' reads standard input).  Strict by default: the first bad\n"
	  "row stops the import with file, line, field and reason, and nothing\n"
	  "is imported.  With --skip-bad the good rows are imported and the bad\n"
	  "ones written to REJECTS.csv (mode 0600) with their line and reason.\n"
	  "Limits: 4096 bytes a field, 256 fields and 64 KiB a record, and the\n"
	  "per-type limits of docs/internals/normalize.md.\n" },
	{ "lookup", cmd_lookup, "find a customer by exact phone, email or "
	  "account id",
	  "usage: vigil lookup DIR (--phone P | --email E | --account-id A |\n"
	  "                        --field NAME=VALUE) [--json]\n"
	  "\n"
	  "Exact match through the blind index; prints the masked record of\n"
	  "each match.  Phones are normalised (default region CN), so\n"
	  "\"138 0013 8000\" and \"+86 138-0013-8000\" find the same customer.\n"
	  "A malformed value is an error, not a miss.  Exit status 2 when no\n"
	  "customer matches.  A value of '-' is read from standard input, so\n"
	  "it does not show in ps, /proc or the shell's history.\n" },
	{ "show", cmd_show, "show a customer's masked record by id",
	  "usage: vigil show DIR cus_... [--json]\n" },
	{ "stats", cmd_stats, "counts, key epochs and sizes",
	  "usage: vigil stats DIR [--json]\n" },
	{ "keys", cmd_keys, "rotate and rewrap data keys",
	  "usage: vigil keys rotate DIR\n"
	  "       vigil keys rewrap DIR [--batch N]\n"
	  "\n"
	  "rotate starts a new key epoch: new writes are sealed under a new\n"
	  "random data key, older rows stay readable.  rewrap re-seals every\n"
	  "older row under the current key in transactions of N rows (default\n"
	  "1000) while the vault stays usable, then retires (erases) the old\n"
	  "keys.\n" },
	{ "pseudonym", cmd_pseudonym, "consumer-scoped pseudonyms",
	  "usage: vigil pseudonym DIR --consumer NAME cus_... [cus_...]\n"
	  "       vigil pseudonym DIR --consumer NAME --resolve psn_...\n"
	  "\n"
	  "A pseudonym is stable for one consumer, cannot be linked to the\n"
	  "same customer's pseudonym for another consumer, and only the vault\n"
	  "can resolve it.  Consumer names: [a-z0-9][a-z0-9_.-]{0,63}.\n" },
	{ "principal", cmd_principal, "principals and their API keys",
	  "usage: vigil principal add DIR --id ID --org ORG --kind KIND --role ROLE\n"
	  "                           [--region CODE] [--shift SHIFT]\n"
	  "       vigil principal list DIR [--json]\n"
	  "       vigil principal show DIR ID [--json]\n"
	  "       vigil principal revoke-key DIR KEY_ID\n"
	  "       vigil principal suspend DIR ID\n"
	  "       vigil principal reinstate DIR ID\n"
	  "\n"
	  "add registers a principal and prints its API key (vk_KEYID_SECRET)\n"
	  "once: only a keyed hash of it is kept, so it cannot be shown again.\n"
	  "IDs and orgs: [a-z0-9][a-z0-9_.-]{0,63}.  KIND: employee, vendor or\n"
	  "system.  ROLE: agent, supervisor, security, admin, ingest,\n"
	  "ticketing, exporter or marketing_ops.  --region names a province\n"
	  "(CN-GD, GD or its name); --shift is \"TZ Days HH:MM-HH:MM\", e.g.\n"
	  "\"Asia/Shanghai Mon-Fri 09:00-18:00\".  revoke-key disables a key\n"
	  "for good; suspend stops all of a principal's keys until reinstate.\n"
	  "Changes are audited.\n" },
	{ "policy", cmd_policy, "check, explain and reload the access policy",
	  "usage: vigil policy check FILE [--dir DIR]\n"
	  "       vigil policy explain DIR --principal ID [--customer CUS]\n"
	  "                    [--fields F,F] [--purpose P] [--case CASE]\n"
	  "                    [--action A] [--policy FILE] [--at UNIXTIME]\n"
	  "                    [--justification-bytes N] [--approved] [--json]\n"
	  "                    [--consumer C --rows N]  (--action export)\n"
	  "       vigil policy reload DIR\n"
	  "\n"
	  "check parses the access policy FILE (YAML, docs/POLICY.md) and\n"
	  "prints \"FILE: ok (N roles, digest D)\", or the first error as\n"
	  "FILE:LINE:COLUMN with the key at fault, exit status 2.  Field names\n"
	  "are checked against the schema of the vault in DIR (which needs\n"
	  "its master key), else against the default schema.  The digest is\n"
	  "the one vigild logs and audits when it loads the policy.\n"
	  "\n"
	  "explain prints the decision vigild would make for PRINCIPAL (a\n"
	  "reveal of FIELDS of CUSTOMER by default; --action names another)\n"
	  "and every rule that led to it with its policy line, from the\n"
	  "vault's principal, case and shift, and quota usage folded from\n"
	  "the audit log.  The policy is DIR/policy.yaml unless --policy.\n"
	  "\n"
	  "reload checks the policy file the running vigild on DIR uses,\n"
	  "then sends it SIGHUP and reports its answer (vigild.policy).  A\n"
	  "bad file is refused and vigild keeps its current policy.\n" },
	{ "detect", cmd_detect, "replay the audit log through the detector",
	  "usage: vigil detect replay DIR [--from T] [--to T] [--json]\n"
	  "                          [--containment LEVEL=ACTION,...]\n"
	  "\n"
	  "Feeds every vigild chain of DIR's audit log, merged by time,\n"
	  "through the insider-threat detector, with the vault's principal\n"
	  "directory and honeytoken set: the same code and the same entries\n"
	  "as vigild's own detector, so the same alerts.  Prints each alert\n"
	  "(time, severity, principal, rule, top signal); with --json, the\n"
	  "one JSON line vigild stores and sends to its sinks.  --from and\n"
	  "--to (RFC 3339 or unix seconds) keep the alerts in [from, to);\n"
	  "the fold starts 31 days before --from so every window is full.\n"
	  "--containment gives the actions vigild's `detect:` configuration\n"
	  "gives (default medium=step_up,high=suspend,critical=suspend), so\n"
	  "the alerts say what vigild did.  A summary goes to stderr.\n"
	  "docs/DETECTION.md says what is counted and how it is scored.\n" },
	{ "export", cmd_export, "bulk exports for a consumer, with canaries",
	  "usage: vigil export DIR --consumer C --recipient R --purpose P\n"
	  "                    --fields F,F --limit N --as PRINCIPAL\n"
	  "                    [--region CODE] [-o FILE] [--policy FILE]\n"
	  "       vigil export list DIR [--limit N] [--json]\n"
	  "       vigil export show DIR ex_... [--json]\n"
	  "\n"
	  "Exports the first N customers (in storage order; of province CODE\n"
	  "with --region) for consumer C, to be sent to recipient R, for\n"
	  "purpose P, as CSV: a header, then one customer a line in a random\n"
	  "order, the consumer's pseudonym of the customer first, then the\n"
	  "fields F in that order.  A field is in clear only when the policy\n"
	  "lets the consumer have it in clear (consumers: C: clear:), else\n"
	  "masked.  Honeytoken records are never exported.  Each export\n"
	  "carries canary records of its own, synthetic and unique, enough\n"
	  "that a random 50 rows of the file hold one with probability 0.95.\n"
	  "\n"
	  "The export is decided by the policy (DIR/policy.yaml unless\n"
	  "--policy) for principal PRINCIPAL of the vault, whose role needs\n"
	  "the action export.  Every row (export.row) and the manifest\n"
	  "(export) are audited on the cli chain before the file is written,\n"
	  "to FILE (created with mode 0600; it must not exist) or standard\n"
	  "output, unless that is a terminal.  A refusal is audited too and\n"
	  "exits 2 with its reason.\n"
	  "\n"
	  "list prints the manifests, newest first; show one manifest:\n"
	  "recipient, time, rows, canaries and the canary set's commitment.\n" },
	{ "alerts", cmd_alerts, "list, show and acknowledge the detector's alerts",
	  "usage: vigil alerts list DIR [--principal ID] [--state open|acked]\n"
	  "                         [--severity low|medium|high|critical]\n"
	  "                         [--limit N] [--json]\n"
	  "       vigil alerts show DIR al_... [--json]\n"
	  "       vigil alerts ack DIR al_... --by WHO [--reason CODE]\n"
	  "\n"
	  "The alerts vigild's detector stored in the vault (the rows of\n"
	  "GET /v1/alerts), read offline; vigild may be running.\n"
	  "\n"
	  "list prints the newest first, one a line: time, id, state,\n"
	  "severity, principal, rule and who acknowledged it.  --principal\n"
	  "and --state (open or acked) keep only those; --severity keeps\n"
	  "that severity and above; --limit N (1 to 1000, default 100) caps\n"
	  "the rows, and a note on stderr says when the cap was reached.\n"
	  "\n"
	  "show prints one alert: its state, principal, rule, score,\n"
	  "containment, message, signals and audit sequence numbers.\n"
	  "\n"
	  "With --json, list and show print each row as GET /v1/alerts\n"
	  "does, one a line: {\"id\",\"state\",\"acked_by\",\"acked_at\",\n"
	  "\"alert\"}, the alert being the exact JSON vigild sent to its sinks.\n"
	  "\n"
	  "ack marks an open alert acknowledged by WHO (an id,\n"
	  "[a-z0-9][a-z0-9_.-]{0,63}), with an optional reason code\n"
	  "([a-z0-9_-]{1,64}).  It is audited on the cli chain as alert.ack\n"
	  "(detail alert=ID,by=WHO[,reason=CODE]) before the alert changes;\n"
	  "an unknown or already acknowledged alert is audited as a denial\n"
	  "and is exit status 2.  Acknowledging does not lift a containment;\n"
	  "a reinstate does (POST /v1/principals/ID/reinstate, or vigil\n"
	  "principal reinstate, which a running vigild reads within a\n"
	  "moment).  Alerts name\n"
	  "principals and audit entries only, never a customer's data.\n" },
	{ "demo", cmd_demo, "the end-to-end demonstration (make demo)",
	  "usage: vigil demo DIR [--customers N] [--principals N] [--days N]\n"
	  "                  [--seed S] [--ring N] [--policy FILE]\n"
	  "                  [--report FILE] [--quiet]\n"
	  "\n"
	  "Builds the simulated world (vigil sim) in a new vault DIR: its\n"
	  "customers (200,000 by default) imported, its honeytokens sealed\n"
	  "into the vault's set (one per 1,000 customers), its principals\n"
	  "(about --principals, 1,000) with their API keys.  Starts\n"
	  "vigild on a loopback port in simulation mode (requests carry the\n"
	  "world's time: sim: {clock: true}) and drives the world's week over\n"
	  "HTTP, a ring of --ring vendor insiders (20) among about 1,000\n"
	  "staff, printing progress and each alert as it fires.  A security\n"
	  "analyst reviews every containment four hours later and reinstates\n"
	  "a principal found legitimate.  Then stops vigild, verifies the\n"
	  "audit log and prints who was caught when, and what the insiders\n"
	  "took against what they would have taken with no vigil; the same\n"
	  "in --report (reports/demo.html).  --policy defaults to\n"
	  "etc/sim-policy.yaml (run from the source tree).\n" },
	{ "sim", cmd_sim, "run a simulated world of staff, vendors and "
	  "insiders",
	  "usage: vigil sim run [--seed S] [--days N] [--customers N]\n"
	  "                     [--principals N] [--insiders NAME=N,...]\n"
	  "                     [--ring N] [--surge-day D] [--honey N]\n"
	  "                     [--policy FILE] [--alerts] [--json]\n"
	  "\n"
	  "Builds the synthetic world of docs/DETECTION.md (\"Simulator and\n"
	  "evaluation\"): the company and eight vendors, about --principals\n"
	  "staff (default 1000: agents in regional queues and shifts,\n"
	  "supervisors, security analysts, ticketing, ingest, exporters),\n"
	  "--customers customers (default 200000, those of `vigil\n"
	  "gen-customers --seed S`), customer contacts for --days days\n"
	  "(default 7, from Monday 2027-01-04; --surge-day D triples day D's\n"
	  "contacts, days counted from 0), and the insiders asked for, each\n"
	  "with its ground truth.  Every action is decided, audited and fed to\n"
	  "the detector in process, as vigild would (policy: the built-in\n"
	  "etc/sim-policy.yaml, or --policy FILE); alerts contain (medium:\n"
	  "step-up, high: reveals suspended) and insiders react.\n"
	  "\n"
	  "--insiders takes strategies with counts: bulk, low_slow,\n"
	  "off_shift, launder, validate, enumerate, ring, mimic (a name alone\n"
	  "is 1).  A ring has --ring members (default 20, 3 to 100) across\n"
	  "three call-centre vendors, one of them dismissed and working\n"
	  "through a colleague's key; --ring N alone asks for one ring.\n"
	  "--honey N makes N customers honeytokens (default none).\n"
	  "\n"
	  "Prints the world, the traffic, the legitimate reveals under a\n"
	  "case, the exporters' exports for the courier (one a working day\n"
	  "each; not reveals), the alerts (true and false), the\n"
	  "false alerts per 1,000 principal-days, and per insider: detected,\n"
	  "hours from its first theft to its first alert and to containment,\n"
	  "records taken against records it would have taken without vigil.\n"
	  "--alerts also prints each alert as it fires; --json prints one\n"
	  "JSON object with every alert.  The same options give the same\n"
	  "output.  Exit status 1 for a bad option, 2 for a bad policy.\n" },
	{ "eval", cmd_eval, "measure the detector over simulated scenarios",
	  "usage: vigil eval [--days N] [--seeds N] [--out DIR] [--json]\n"
	  "\n"
	  "Runs one scenario per insider strategy (one insider each), a\n"
	  "collusion ring of 20, and a week without insiders that has a\n"
	  "launch surge (three times the contacts on day 2), each for --days\n"
	  "days (default 7) over seeds 1 to --seeds (default 5), through the\n"
	  "same in-process driver as `vigil sim run`.  Reports per strategy:\n"
	  "detection rate, median hours to the first alert and to\n"
	  "containment, records taken before containment and what the same\n"
	  "insiders would have taken without vigil; false alerts per 1,000\n"
	  "principal-days of legitimate traffic; legitimate reveals under a\n"
	  "case, and the exporters' exports (not reveals); precision (alerts\n"
	  "that name an insider) and recall (insiders alerted).  Writes\n"
	  "DIR/eval.md and DIR/eval.html with SVG plots (default DIR:\n"
	  "reports), and prints the table.  Deterministic for the seeds.\n"
	  "\n"
	  "vigil eval trace [--seeds N] [--trials N] [--out DIR] measures\n"
	  "leak tracing instead: per seed one simulated week with five lone\n"
	  "insiders and a ring of 20 (the detector alerting, containing\n"
	  "nobody), then --trials leaks (default 20) of each kind drawn from\n"
	  "the ground truth: 3, 5 and 10 rows of one insider's theft, 100 to\n"
	  "300 rows of the ring's, and 300-row leaks that come from nobody in\n"
	  "the log.  Reports how often the insider ranks first and is named,\n"
	  "ring members named, and innocent principals named per 100 traces;\n"
	  "writes DIR/trace-eval.md.\n" },
	{ "trace", cmd_trace, "name the exports and insiders behind a leaked file",
	  "usage: vigil trace DIR FILE [--json] [--html OUT] [--columns LIST]\n"
	  "                   [--delimiter C] [--header yes|no] [--from T]\n"
	  "                   [--to T] [--alpha A] [--evidence N]\n"
	  "                   [--suspects N] [--no-proofs]\n"
	  "\n"
	  "Reads FILE (or - for standard input): whatever was found for sale,\n"
	  "any subset and order of name, phone, e-mail and account id, with or\n"
	  "without a header, commas, tabs, semicolons or bars, dirty values.\n"
	  "The layout is sniffed and reported (--columns phone,-,name,...,\n"
	  "with pseudonym for a pseudonymised export's psn_ column,\n"
	  "--delimiter and --header force it).  Rows are matched to customers\n"
	  "through the blind indexes, else to exports' canary records, and\n"
	  "honeytokens are marked.  Then the whole audit log is read (--from\n"
	  "and --to bound it): for every principal and export, how many of the\n"
	  "leaked customers it obtained with a leaked field in clear, and how\n"
	  "unlikely that is by chance for its access volume in those regions\n"
	  "(docs/DETECTION.md, \"Leak tracing\"), corrected for the number of\n"
	  "principals tested.  Principals are named one by one below --alpha\n"
	  "(default 0.001), each tested on what those named before it leave\n"
	  "unexplained; several named together are a ring.  Each named\n"
	  "suspect's evidence is up to --evidence audit entries (default 10),\n"
	  "each with an inclusion proof against a signed checkpoint.\n"
	  "Prints a table, or with --json one JSON object (matched, unmatched,\n"
	  "honey_hits, canary_hits, exports, suspects, rings); --html writes a\n"
	  "report.  The trace is audited as leak.trace with the file's\n"
	  "SHA-256 and counts.  No value of the file is repeated.  Exit\n"
	  "status 1 for a bad option, 2 for an unreadable file or vault.\n" },
	{ "honey", cmd_honey, "plant honeytoken records and count them",
	  "usage: vigil honey plant DIR --count N [--seed S]\n"
	  "       vigil honey status DIR [--json]\n"
	  "\n"
	  "plant adds N synthetic customers (made like gen-customers') that\n"
	  "nothing in the vault tells apart from real ones: they are sealed\n"
	  "and indexed like any customer, placed at random among the others\n"
	  "with the creation time and key epoch of their neighbours.  Which\n"
	  "ones are honey is written only to DIR/honey.set, encrypted under\n"
	  "the master key.  Planting again adds to the set.  Refused on a\n"
	  "vault without customers, and when honey records would outnumber\n"
	  "the real ones.  Audited as honey.plant with the count only.\n"
	  "--seed picks the generated customers (default: a random seed);\n"
	  "anyone who knows it can regenerate them, so use it only in tests.\n"
	  "\n"
	  "status prints how many honey records the vault holds.\n" },
	{ "audit", cmd_audit, "verify, query and prove the audit log",
	  "usage: vigil audit verify DIR [--chain NAME] [--witness DIR_OR_FILE]...\n"
	  "                          [--mac-key FILE] [--key VKEY_OR_FILE] [--json]\n"
	  "       vigil audit tail DIR [-n N] [--chain NAME]\n"
	  "       vigil audit query DIR [--chain NAME] [--principal P]\n"
	  "                         [--customer cus_...] [--action A] [--decision D]\n"
	  "                         [--since T] [--until T] [--limit N]\n"
	  "       vigil audit who-viewed DIR cus_... [--json]\n"
	  "       vigil audit prove DIR --seq N [--chain NAME] [--out FILE]\n"
	  "       vigil audit check-proof PROOF.json --key VKEY_OR_FILE\n"
	  "\n"
	  "verify checks framing, the hash chain, MACs (with K0, from\n"
	  "--mac-key or DIR/audit-offline), every signed checkpoint and every\n"
	  "witness checkpoint (files or directories of .cp notes); it names\n"
	  "the first bad entry and what is wrong, and exits 0 only when all\n"
	  "holds.  tail and query print JSON lines with Elastic Common Schema\n"
	  "names.  prove writes an inclusion proof of entry N against the\n"
	  "latest checkpoint; check-proof verifies one with only the proof and\n"
	  "the chain's verifier key (DIR/audit/CHAIN/key.pub).  Times are\n"
	  "RFC 3339 UTC or unix seconds.\n" },
	{ "gen-customers", cmd_gen_customers, "generate synthetic customers",
	  "usage: vigil gen-customers --count N [--seed S] [--out FILE]\n"
	  "\n"
	  "Writes N synthetic customers as CSV (default seed 1, default\n"
	  "standard output).  Deterministic: the same seed gives the same\n"
	  "bytes.  No generated customer is a real person.\n" },
	{ "help", cmd_help, "show help for a command",
	  "usage: vigil help [COMMAND]\n" },
	{ "version", cmd_version, "print the version",
	  "usage: vigil version\n" },
	{ NULL, NULL, NULL, NULL },
};

static const struct vg_cmd *
find_cmd(const char *name)
{
	const struct vg_cmd *c;

	for (c = vg_cmds; c->name != NULL; c++)
		if (strcmp(c->name, name) == 0)
			return c;
	return NULL;
}

static void
overview(FILE *fp)
{
	const struct vg_cmd *c;

	fprintf(fp, "usage: vigil COMMAND [ARGS]\n\n"
	    "vigil keeps customer data safe from insiders.  Today: an encrypted\n"
	    "vault with exact lookup, masked views and pseudonyms.  Purpose-bound\n"
	    "reveals, the audit log and detection are being built.\n\n"
	    "commands:\n");
	for (c = vg_cmds; c->name != NULL; c++)
		fprintf(fp, "  %-15s %s\n", c->name, c->summary);
	fprintf(fp, "\n'vigil help COMMAND' shows a command's options.\n"
	    "Exit status: 0 success, 1 usage error, 2 data or runtime "
	    "error.\n");
}

int
cli_fail(struct vg_cli *cli, int status, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "vigil %s: ", cli->cmd);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return status;
}

int
cli_usage(struct vg_cli *cli, const char *fmt, ...)
{
	const struct vg_cmd *c = find_cmd(cli->cmd);
	va_list ap;

	fprintf(stderr, "vigil %s: ", cli->cmd);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	if (c != NULL) {
		const char *nl = strstr(c->usage, "\n\n");
		int n = nl != NULL ? (int)(nl - c->usage) + 1 :
		    (int)strlen(c->usage);

		fprintf(stderr, "%.*s", n, c->usage);
	}
	return EXIT_USAGE;
}

int
cli_optfail(struct vg_cli *cli, int c, char **argv)
{
	const char *arg = optind > 0 ? argv[optind - 1] : "?";
	int n = (int)strcspn(arg, "=");	/* never echo a --opt=VALUE value */

	if (c == ':')
		return cli_usage(cli, "option '%.*s' needs a value", n, arg);
	return cli_usage(cli, "unknown option '%.*s'", n, arg);
}

int
cli_help(struct vg_cli *cli)
{
	const struct vg_cmd *c = find_cmd(cli->cmd);

	if (c != NULL)
		fputs(c->usage, stdout);
	return EXIT_OK;
}

int
cli_open(struct vg_cli *cli, const char *dir, struct vg_vault **v)
{
	char err[VG_ERRMSG_MAX] = "";
	int rc;

	rc = vg_vault_open(dir, v, err, sizeof(err));
	if (rc != 0)
		return cli_fail(cli, EXIT_DATA, "%s",
		    err[0] != '\0' ? err : vg_strerror(rc));
	return EXIT_OK;
}

int
cli_print_json(json_t *o)
{
	char *s;

	if (o == NULL)
		return EXIT_DATA;
	s = json_dumps(o, JSON_INDENT(2));
	json_decref(o);
	if (s == NULL)
		return EXIT_DATA;
	printf("%s\n", s);
	free(s);
	return EXIT_OK;
}

int
cli_parse_u64(const char *s, unsigned long long *out)
{
	char *end;

	if (s == NULL || *s < '0' || *s > '9')
		return -1;
	errno = 0;
	*out = strtoull(s, &end, 10);
	if (errno != 0 || *end != '\0')
		return -1;
	return 0;
}

bool
cli_tty(void)
{
	return isatty(STDERR_FILENO) == 1;
}

double
cli_seconds(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

int
cmd_help(int argc, char **argv, struct vg_cli *cli)
{
	const struct vg_cmd *c;

	if (argc < 2) {
		overview(stdout);
		return EXIT_OK;
	}
	c = find_cmd(argv[1]);
	if (c == NULL)
		return cli_fail(cli, EXIT_USAGE, "no such command '%s'",
		    argv[1]);
	fputs(c->usage, stdout);
	return EXIT_OK;
}

int
cmd_version(int argc, char **argv, struct vg_cli *cli)
{
	(void)argc;
	(void)argv;
	(void)cli;
	printf("vigil %s\n", VG_VERSION);
	return EXIT_OK;
}

int
main(int argc, char **argv)
{
	struct vg_cli cli = { "vigil", false };
	const struct vg_cmd *c;
	int i;

	/* Vault files, rejects and key files are private to their owner;
	 * keys and clear values never go to a core dump. */
	umask(077);
	{
		struct rlimit rl = { 0, 0 };

		(void)setrlimit(RLIMIT_CORE, &rl);
#ifdef __linux__
		(void)prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
#endif
	}
	if (vg_crypto_init() != 0) {
		fprintf(stderr, "vigil: cannot initialise libsodium\n");
		return EXIT_DATA;
	}
	if (argc < 2) {
		overview(stderr);
		return EXIT_USAGE;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		overview(stdout);
		return EXIT_OK;
	}
	if (strcmp(argv[1], "--version") == 0)
		return cmd_version(argc, argv, &cli);
	c = find_cmd(argv[1]);
	if (c == NULL) {
		fprintf(stderr, "vigil: '%s' is not a command; see "
		    "'vigil help'\n", argv[1]);
		return EXIT_USAGE;
	}
	cli.cmd = c->name;
	opterr = 0;	/* cli_optfail() reports option errors */
	for (i = 2; i < argc; i++) {
		if (strcmp(argv[i], "--") == 0)
			break;
		if (strcmp(argv[i], "--help") == 0 ||
		    strcmp(argv[i], "-h") == 0)
			return cli_help(&cli);
	}
	return c->fn(argc - 1, argv + 1, &cli);
}
