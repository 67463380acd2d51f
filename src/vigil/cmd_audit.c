/* SPDX-License-Identifier: Apache-2.0 */
/*
 * vigil audit verify | prove | check-proof, and the dispatch to tail,
 * query and who-viewed (cmd_audit_query.c).
 */
#include <dirent.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <jansson.h>
#include <sodium.h>

#include "vigil/audit.h"
#include "cli.h"

#define WITNESS_MAX 16
#define CHAINS_MAX 64

/* Reads a verifier key given as the key itself or as a file holding it. */
static int
load_vkey(struct vg_cli *cli, const char *arg, struct vg_note_key *k)
{
	char buf[VG_VKEY_MAX + 2];
	size_t n;
	FILE *fp;

	if (vg_note_vkey_parse(k, arg, strlen(arg)) == 0)
		return EXIT_OK;
	fp = fopen(arg, "r");
	if (fp == NULL)
		return cli_fail(cli, EXIT_USAGE, "--key: neither a verifier key "
		    "nor a readable file");
	n = fread(buf, 1, sizeof(buf) - 1, fp);
	fclose(fp);
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
		n--;
	if (vg_note_vkey_parse(k, buf, n) != 0)
		return cli_fail(cli, EXIT_USAGE, "--key: '%s' does not hold a "
		    "verifier key (name+id+key)", arg);
	return EXIT_OK;
}

/* Reads K_0 from a .mac0 file: comment lines, then one base64 line. */
static int
load_mac0(const char *path, unsigned char *key)
{
	char line[256];
	FILE *fp = fopen(path, "r");
	int rc = -1;

	if (fp == NULL)
		return -1;
	while (fgets(line, sizeof(line), fp) != NULL) {
		if (line[0] == '#' || line[0] == '\n')
			continue;
		rc = vg_b64_decode_key(key, line, strlen(line)) == 0 ? 0 : -1;
		break;
	}
	sodium_memzero(line, sizeof(line));
	fclose(fp);
	return rc;
}

static int
list_chains(const char *dir, char names[][VG_CHAIN_NAME_MAX + 1], int max)
{
	char path[PATH_MAX], kp[PATH_MAX + 300];
	struct dirent *de;
	struct stat sb;
	DIR *d;
	int n = 0;

	snprintf(path, sizeof(path), "%s/audit", dir);
	d = opendir(path);
	if (d == NULL)
		return -1;
	while ((de = readdir(d)) != NULL && n < max) {
		if (de->d_name[0] == '.' ||
		    strlen(de->d_name) > VG_CHAIN_NAME_MAX)
			continue;
		if ((size_t)snprintf(kp, sizeof(kp), "%s/%s/key.pub", path,
		    de->d_name) >= sizeof(kp) || stat(kp, &sb) != 0)
			continue;
		memcpy(names[n], de->d_name, strlen(de->d_name) + 1);
		n++;
	}
	closedir(d);
	return n;
}

static void
hex(char *out, const unsigned char *in, size_t n)
{
	sodium_bin2hex(out, n * 2 + 1, in, n);
}

static int
cmd_audit_verify(int argc, char **argv, struct vg_cli *cli)
{
	static const struct option opts[] = {
		{ "chain", required_argument, NULL, 'c' },
		{ "witness", required_argument, NULL, 'w' },
		{ "mac-key", required_argument, NULL, 'm' },
		{ "key", required_argument, NULL, 'k' },
		{ "json", no_argument, NULL, 'j' },
		{ NULL, 0, NULL, 0 },
	};
	char chains[CHAINS_MAX][VG_CHAIN_NAME_MAX + 1];
	const char *witness[WITNESS_MAX], *chain = NULL, *mac_path = NULL;
	const char *key_arg = NULL;
	struct vg_note_key key;
	unsigned char *mac0 = NULL;
	json_t *arr = NULL;
	size_t nw = 0;
	int c, i, n, rc, status = EXIT_OK;

	optind = 1;
	while ((c = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
		switch (c) {
		case 'c':
			chain = optarg;
			break;
		case 'w':
			if (nw == WITNESS_MAX)
				return cli_usage(cli, "at most %d --witness",
				    WITNESS_MAX);
			witness[nw++] = optarg;
			break;
		case 'm':
			mac_path = optarg;
			break;
		case 'k':
			key_arg = optarg;
			break;
		case 'j':
			cli->json = true;
			break;
		default:
			return cli_optfail(cli, c, argv);
		}
	}
	if (argc - optind != 1)
		return cli_usage(cli, "expected one vault directory");
	if (key_arg != NULL && (rc = load_vkey(cli, key_arg, &key)) != EXIT_OK)
		return rc;
	if (chain != NULL) {
		snprintf(chains[0], sizeof(chains[0]), "%s", chain);
		n = 1;
	} else {
		n = list_chains(argv[optind], chains, CHAINS_MAX);
		if (n <= 0)
			return cli_fail(cli, EXIT_DATA, "'%s' has no audit "
			    "chains (no %s/audit/*/key.pub)", argv[optind],
			    argv[optind]);
	}
	mac0 = vg_secret_new(VG_KEYBYTES);
	if (mac0 == NULL)
		return cli_fail(cli, EXIT_DATA, "out of memory");
	if (cli->json)
		arr = json_array();
	for (i = 0; i < n; i++) {
		struct vg_audit_verify_opts o;
		struct vg_audit_verify_result res;
		char dir[PATH_MAX], mpath[PATH_MAX + 64], root[65];
		const char *msrc = NULL;

		snprintf(dir, sizeof(dir), "%s/audit/%s", argv[optind],
		    chains[i]);
		memset(&o, 0, sizeof(o));
		o.chain_dir = dir;
		o.key = key_arg != NULL ? &key : NULL;
		o.witness = witness;
		o.nwitness = nw;
		if (mac_path != NULL) {
			if (load_mac0(mac_path, mac0) != 0) {
				status = cli_fail(cli, EXIT_DATA, "--mac-key: "
				    "'%s' holds no key", mac_path);
				break;
			}
			o.mac0 = mac0;
			msrc = mac_path;
		} else {
			snprintf(mpath, sizeof(mpath), "%s/audit-offline/%s.mac0",
			    argv[optind], chains[i]);
			if (load_mac0(mpath, mac0) == 0) {
				o.mac0 = mac0;
				msrc = mpath;
			}
		}
		rc = vg_audit_verify(&o, &res);
		if (rc != 0) {
			status = cli_fail(cli, EXIT_DATA, "chain %s: cannot "
			    "verify: %s", chains[i], vg_strerror(rc));
			continue;
		}
		hex(root, res.root, VG_HASHBYTES);
		if (!res.ok)
			status = EXIT_DATA;
		if (arr != NULL) {
			json_t *o2 = json_object();

			json_object_set_new(o2, "chain", json_string(chains[i]));
			json_object_set_new(o2, "ok", json_boolean(res.ok));
			json_object_set_new(o2, "entries",
			    json_integer((json_int_t)res.entries));
			json_object_set_new(o2, "checkpoints",
			    json_integer((json_int_t)res.checkpoints));
			json_object_set_new(o2, "witness_checkpoints",
			    json_integer((json_int_t)res.witness_checkpoints));
			json_object_set_new(o2, "macs_checked",
			    json_boolean(res.macs_checked));
			json_object_set_new(o2, "key_pinned",
			    json_boolean(res.key_pinned));
			json_object_set_new(o2, "torn_bytes",
			    json_integer((json_int_t)res.torn_bytes));
			json_object_set_new(o2, "torn_checkpoint",
			    json_boolean(res.torn_checkpoint));
			json_object_set_new(o2, "root", json_string(root));
			if (!res.ok) {
				json_object_set_new(o2, "problem",
				    json_string(res.what));
				json_object_set_new(o2, "seq",
				    json_integer((json_int_t)res.seq));
				json_object_set_new(o2, "seq_end",
				    json_integer((json_int_t)res.seq_end));
				json_object_set_new(o2, "segment",
				    json_string(res.segment));
				json_object_set_new(o2, "offset",
				    json_integer((json_int_t)res.offset));
				json_object_set_new(o2, "detail",
				    json_string(res.detail));
			}
			json_array_append_new(arr, o2);
			continue;
		}
		if (res.ok) {
			printf("chain %s: OK: %llu entries; %llu checkpoints "
			    "and %llu witness checkpoints verified (signature "
			    "and root); MACs %s; root %s\n", chains[i],
			    (unsigned long long)res.entries,
			    (unsigned long long)res.checkpoints,
			    (unsigned long long)res.witness_checkpoints,
			    res.macs_checked ? "verified" : "not checked (no "
			    "K0: pass --mac-key)", root);
		} else {
			printf("chain %s: FAILED: %s at seq %llu", chains[i],
			    res.what, (unsigned long long)res.seq);
			if (res.seq_end != res.seq)
				printf("..%llu", (unsigned long long)res.seq_end);
			if (res.segment[0] != '\0')
				printf(" (%s, byte offset %llu)", res.segment,
				    (unsigned long long)res.offset);
			printf(": %s\n", res.detail);
		}
		if (res.torn_checkpoint)
			printf("chain %s: note: checkpoints.log ends in a torn "
			    "record (an unfinished write), cut at the next "
			    "open\n", chains[i]);
		if (res.torn_bytes > 0)
			printf("chain %s: note: a torn tail of %llu bytes "
			    "(an unfinished write) is cut at the next open\n",
			    chains[i], (unsigned long long)res.torn_bytes);
		if (msrc != NULL && mac_path == NULL)
			fprintf(stderr, "vigil audit: warning: K0 was read "
			    "from %s, on this machine; keep it offline\n",
			    msrc);
		if (!res.key_pinned)
			fprintf(stderr, "vigil audit: note: chain %s checked "
			    "against its own key.pub; pin the key with --key "
			    "and compare with witnesses\n", chains[i]);
	}
	vg_secret_free(mac0);
	if (arr != NULL) {
		char *s = json_dumps(arr, JSON_INDENT(2));

		json_decref(arr);
		if (s != NULL) {
			printf("%s\n", s);
			free(s);
		}
	}
	return status;
}

static int
cmd_audit_prove(int argc, char **argv, struct vg_cli *cli)
{
	static const struct option opts[] = {
		{ "chain", required_argument, NULL, 'c' },
		{ "seq", required_argument, NULL, 's' },
		{ "out", required_argument, NULL, 'o' },
		{ NULL, 0, NULL, 0 },
	};
	struct vg_audit_proof *p;
	const char *chain = "cli", *out = NULL, *why = "";
	unsigned long long seq = 0;
	char dir[PATH_MAX], *s;
	int c, rc, have_seq = 0;
	FILE *fp = stdout;

	optind = 1;
	while ((c = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
		switch (c) {
		case 'c':
			chain = optarg;
			break;
		case 's':
			if (cli_parse_u64(optarg, &seq) != 0)
				return cli_usage(cli, "--seq takes a number");
			have_seq = 1;
			break;
		case 'o':
			out = optarg;
			break;
		default:
			return cli_optfail(cli, c, argv);
		}
	}
	if (argc - optind != 1 || !have_seq)
		return cli_usage(cli, "expected a vault directory and --seq N");
	snprintf(dir, sizeof(dir), "%s/audit/%s", argv[optind], chain);
	p = malloc(sizeof(*p));
	if (p == NULL)
		return cli_fail(cli, EXIT_DATA, "out of memory");
	rc = vg_audit_prove(dir, seq, p, &why);
	if (rc != 0) {
		free(p);
		return cli_fail(cli, EXIT_DATA, "no proof for seq %llu: %s",
		    seq, why);
	}
	s = vg_audit_proof_json(p, chain);
	free(p);
	if (s == NULL)
		return cli_fail(cli, EXIT_DATA, "out of memory");
	if (out != NULL && (fp = fopen(out, "w")) == NULL) {
		free(s);
		return cli_fail(cli, EXIT_DATA, "cannot create '%s'", out);
	}
	fprintf(fp, "%s\n", s);
	free(s);
	if (out != NULL && fclose(fp) != 0)
		return cli_fail(cli, EXIT_DATA, "cannot write '%s'", out);
	return EXIT_OK;
}

static int
hex_decode(unsigned char *out, size_t n, const char *s)
{
	size_t len;

	if (s == NULL || strlen(s) != n * 2)
		return -1;
	return sodium_hex2bin(out, n, s, n * 2, NULL, &len, NULL) == 0 &&
	    len == n ? 0 : -1;
}

static int
cmd_audit_check_proof(int argc, char **argv, struct vg_cli *cli)
{
	static const struct option opts[] = {
		{ "key", required_argument, NULL, 'k' },
		{ NULL, 0, NULL, 0 },
	};
	struct vg_audit_proof *p;
	struct vg_audit_record *rec;
	struct vg_note_key key;
	const char *key_arg = NULL, *why = "", *note, *entry;
	json_error_t jerr;
	json_t *o, *path, *v;
	size_t i, n;
	int c, rc;

	optind = 1;
	while ((c = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
		if (c != 'k')
			return cli_optfail(cli, c, argv);
		key_arg = optarg;
	}
	if (argc - optind != 1 || key_arg == NULL)
		return cli_usage(cli, "expected a proof file and --key");
	if ((rc = load_vkey(cli, key_arg, &key)) != EXIT_OK)
		return rc;
	o = json_load_file(argv[optind], JSON_REJECT_DUPLICATES, &jerr);
	if (o == NULL)
		return cli_fail(cli, EXIT_DATA, "%s:%d: %s", argv[optind],
		    jerr.line, jerr.text);
	p = calloc(1, sizeof(*p));
	rec = malloc(sizeof(*rec));
	if (p == NULL || rec == NULL) {
		json_decref(o);
		free(p);
		free(rec);
		return cli_fail(cli, EXIT_DATA, "out of memory");
	}
	rc = EXIT_DATA;
	note = json_string_value(json_object_get(o, "checkpoint"));
	entry = json_string_value(json_object_get(o, "entry"));
	path = json_object_get(o, "path");
	v = json_object_get(o, "seq");
	if (note == NULL || entry == NULL || !json_is_array(path) ||
	    !json_is_integer(v) || json_integer_value(v) < 0 ||
	    !json_is_integer(json_object_get(o, "tree_size")) ||
	    json_array_size(path) > VG_MERKLE_MAX_PROOF ||
	    strlen(note) >= sizeof(p->note)) {
		cli_fail(cli, EXIT_DATA, "%s: not a vigil audit proof "
		    "(fields checkpoint, entry, seq, tree_size, path)",
		    argv[optind]);
		goto out;
	}
	p->seq = (uint64_t)json_integer_value(v);
	p->size = (uint64_t)json_integer_value(json_object_get(o,
	    "tree_size"));
	p->notelen = strlen(note);
	memcpy(p->note, note, p->notelen);
	if (vg_b64_decode(p->body, sizeof(p->body), entry, strlen(entry),
	    &n) != 0) {
		cli_fail(cli, EXIT_DATA, "%s: field entry: bad base64",
		    argv[optind]);
		goto out;
	}
	p->body_len = n;
	p->npath = json_array_size(path);
	for (i = 0; i < p->npath; i++) {
		if (hex_decode(p->path[i], VG_HASHBYTES,
		    json_string_value(json_array_get(path, i))) != 0) {
			cli_fail(cli, EXIT_DATA, "%s: field path[%zu]: not a "
			    "32-byte hex hash", argv[optind], i);
			goto out;
		}
	}
	if (vg_audit_check_proof(p, &key, rec, &why) != 0) {
		cli_fail(cli, EXIT_DATA, "proof does NOT hold: %s", why);
		goto out;
	}
	printf("proof OK: entry %llu is in the tree of %llu entries signed "
	    "by %s\n", (unsigned long long)p->seq,
	    (unsigned long long)p->size, key.name);
	printf("  action %s, decision %s%s%s, principal %s\n", rec->action,
	    rec->decision[0] ? rec->decision : "-",
	    rec->reason[0] ? ", reason " : "", rec->reason,
	    rec->principal[0] ? rec->principal : "-");
	if (rec->has_customer) {
		char id[VG_ID_STRLEN];

		vg_id_format(id, rec->customer);
		printf("  customer %s\n", id);
	}
	rc = EXIT_OK;
out:
	json_decref(o);
	free(p);
	free(rec);
	return rc;
}

int
cmd_audit(int argc, char **argv, struct vg_cli *cli)
{
	static const struct {
		const char *name;
		int (*fn)(int, char **, struct vg_cli *);
	} subs[] = {
		{ "verify", cmd_audit_verify },
		{ "prove", cmd_audit_prove },
		{ "check-proof", cmd_audit_check_proof },
		{ "tail", cmd_audit_tail },
		{ "query", cmd_audit_query },
		{ "who-viewed", cmd_audit_who_viewed },
	};
	size_t i;

	if (argc < 2)
		return cli_usage(cli, "expected a subcommand: verify, prove, "
		    "check-proof, tail, query, who-viewed");
	for (i = 0; i < sizeof(subs) / sizeof(subs[0]); i++)
		if (strcmp(argv[1], subs[i].name) == 0)
			return subs[i].fn(argc - 1, argv + 1, cli);
	return cli_usage(cli, "unknown subcommand '%s'", argv[1]);
}
