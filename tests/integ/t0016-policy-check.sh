#!/bin/sh
# vigil policy check: the shipped default policy, a policy checked
# against a vault's own schema (--dir), bad policies with their exact
# FILE:LINE:COLUMN messages, and usage errors.  Exit statuses are the
# CLI's: 0 ok, 1 usage, 2 a bad policy or an unreadable file.
. "$(dirname "$0")/lib.sh"

# --- good policies -----------------------------------------------------------------
vg policy check "$ROOT/etc/policy.yaml"
exit_is 0 "the default policy checks: exit 0"
like "$OUT" "^$ROOT/etc/policy.yaml: ok \(8 roles, digest [0-9a-f]{16}\)\$" \
    "it says ok, 8 roles and the digest"
is "$ERR" "" "and nothing on stderr"
digest=$(printf '%s' "$OUT" | sed 's/.*digest \([0-9a-f]*\))$/\1/')

cp "$ROOT/etc/policy.yaml" copy.yaml
vg policy check copy.yaml
has "$OUT" "digest $digest)" "the same text, the same digest"
printf '\n' >>copy.yaml
vg policy check copy.yaml
exit_is 0 "one more newline still checks"
lacks "$OUT" "$digest" "and has another digest"

printf 'version: 1\nroles: {}\n' >empty.yaml
vg policy check empty.yaml
exit_is 0 "a policy with no role: exit 0"
like "$OUT" '^empty.yaml: ok \(0 roles, digest [0-9a-f]{16}\)$' "0 roles"

cat >one.yaml <<'EOT'
version: 1
roles:
  ingest:
    actions: [customer_create, lookup]
EOT
vg policy check one.yaml
like "$OUT" '^one.yaml: ok \(1 role, digest [0-9a-f]{16}\)$' "1 role"

# --- bad policies: exact messages ---------------------------------------------------
cat >typo.yaml <<'EOT'
version: 1
roles:
  agent:
    actions: [lookup, reveal]
    reveal:
      purposes:
        support: [name, phne]
EOT
vg policy check typo.yaml
exit_is 2 "an unknown field: exit 2"
is "$ERR" 'vigil policy: typo.yaml:7:25: roles.agent.reveal.purposes.support: unknown field "phne"' \
    "an unknown field: file, line, column, key and field"
is "$OUT" "" "an error prints nothing on stdout"

printf 'version: 1\nroles:\n  agent:\n    actoins: [lookup]\n' >key.yaml
vg policy check key.yaml
exit_is 2 "an unknown key: exit 2"
is "$ERR" 'vigil policy: key.yaml:4:5: roles.agent: unknown key "actoins" (expected actions, reveal, shift, break_glass or quota)' \
    "an unknown key names the keys it expected"

printf 'version: 1\nroles:\n  root:\n    actions: [lookup]\n' >role.yaml
vg policy check role.yaml
is "$ERR" 'vigil policy: role.yaml:3:3: roles: unknown role "root" (expected agent, supervisor, security, admin, ingest, ticketing, exporter or marketing_ops)' \
    "an unknown role"

printf 'version: 1\nroles: &all {}\n' >anchor.yaml
vg policy check anchor.yaml
is "$ERR" 'vigil policy: anchor.yaml:2:8: anchors (&name) are not allowed in a policy' \
    "an anchor"

printf 'version: 1\nroles:\n  agent:\n    actions: [lookup\n' >syntax.yaml
vg policy check syntax.yaml
exit_is 2 "a YAML syntax error: exit 2"
is "$ERR" "vigil policy: syntax.yaml:5:1: did not find expected ',' or ']' (while parsing a flow sequence from 4:14)" \
    "a YAML syntax error: libyaml's words and position"

printf 'version: 1\nroles: {}\n---\nversion: 1\nroles: {}\n' >two.yaml
vg policy check two.yaml
is "$ERR" 'vigil policy: two.yaml:3:1: a policy is one YAML document; found a second' \
    "two documents"

printf 'version: 1\nsettings:\n  case_ttl: 3 days\nroles: {}\n' >ttl.yaml
vg policy check ttl.yaml
is "$ERR" 'vigil policy: ttl.yaml:3:13: settings.case_ttl: expected a duration like 30s, 15m, 72h or 30d (0: never)' \
    "a bad duration"

printf 'version: 1\nroles: {}\n# caf\351\n' >latin1.yaml
vg policy check latin1.yaml
is "$ERR" 'vigil policy: latin1.yaml:3:6: not valid UTF-8' "Latin-1 bytes"

vg policy check missing.yaml
exit_is 2 "a missing file: exit 2"
is "$ERR" 'vigil policy: missing.yaml: No such file or directory' \
    "a missing file: says so"
mkdir adir
vg policy check adir
exit_is 2 "a directory: exit 2"
is "$ERR" 'vigil policy: adir: not a regular file' "a directory: says so"
head -c 1048577 /dev/zero | tr '\0' '#' >big.yaml
vg policy check big.yaml
exit_is 2 "a file over 1 MiB: exit 2"
is "$ERR" 'vigil policy: big.yaml: larger than 1048576 bytes' \
    "a file over 1 MiB: says so"

# --- a vault's own schema (--dir) ---------------------------------------------------
cat >schema.txt <<'EOT'
name    name
mobile  phone   index
EOT
"$VIGIL" init v --schema schema.txt >/dev/null 2>&1 || bail "init failed"
cat >mobile.yaml <<'EOT'
version: 1
roles:
  agent:
    actions: [reveal]
    reveal:
      purposes:
        support: [name, mobile]
EOT
vg policy check mobile.yaml --dir v
exit_is 0 "fields of the vault's schema: exit 0 with --dir"
like "$OUT" '^mobile.yaml: ok \(1 role, digest [0-9a-f]{16}\)$' \
    "and says ok"
vg policy check mobile.yaml
exit_is 2 "without --dir the default schema applies: exit 2"
is "$ERR" 'vigil policy: mobile.yaml:7:25: roles.agent.reveal.purposes.support: unknown field "mobile"' \
    "and names the field"
vg policy check --dir v typo.yaml
exit_is 2 "a field missing from the vault's schema: exit 2"
is "$ERR" 'vigil policy: typo.yaml:7:25: roles.agent.reveal.purposes.support: unknown field "phne"' \
    "--dir before the file works too"
vg policy check "$ROOT/etc/policy.yaml" --dir v
exit_is 2 "the default policy names fields this vault lacks: exit 2"
vg policy check mobile.yaml --dir nosuchvault
exit_is 2 "--dir of no vault: exit 2"

# --- usage ----------------------------------------------------------------------------
vg policy
exit_is 1 "no subcommand: exit 1"
has "$ERR" "usage: vigil policy check FILE [--dir DIR]" "and the usage"
vg policy frobnicate x.yaml
exit_is 1 "an unknown subcommand: exit 1"
has "$ERR" "unknown subcommand 'frobnicate'" "and says which"
vg policy check
exit_is 1 "no file: exit 1"
has "$ERR" "expected one policy file" "and says so"
vg policy check one.yaml empty.yaml
exit_is 1 "two files: exit 1"
vg policy check one.yaml --bogus
exit_is 1 "an unknown option: exit 1"
has "$ERR" "unknown option '--bogus'" "and names it"
vg policy check one.yaml --dir
exit_is 1 "--dir without a value: exit 1"
vg help policy
exit_is 0 "help policy: exit 0"
has "$OUT" "usage: vigil policy check FILE [--dir DIR]" "help shows the usage"
vg policy check --help
exit_is 0 "policy check --help: exit 0"
vg help
has "$OUT" "policy" "the overview lists policy"

done_testing
