#!/bin/sh
# vigil export / export list / export show on a vault made by
# gen-customers + import, with honeytokens and etc/policy.yaml: usage
# errors; a pseudonymised export (mode 0600, header, pseudonyms first,
# masked contact fields, N customers and K canaries); clear fields for a
# consumer allowed them, with a region; canaries that look like customers
# yet are nobody (their phones miss the vault, their pseudonyms resolve
# to no customer); honeytokens never exported; refusals (role, consumer,
# purpose, max_rows), audited, leaving no file; an existing file is
# never overwritten; the manifests listed and shown; the audit entries
# (a row entry per customer, the manifest) and audit verify.
. "$(dirname "$0")/lib.sh"

"$VIGIL" gen-customers --count 3000 --seed 7 --out real.csv || bail "gen"
"$VIGIL" init v >/dev/null 2>&1 || bail "init failed"
"$VIGIL" import v real.csv >/dev/null 2>&1 || bail "import failed"
"$VIGIL" honey plant v --count 30 >/dev/null 2>&1 || bail "honey plant"
cp "$ROOT/etc/policy.yaml" v/policy.yaml || bail "policy"
"$VIGIL" principal add v --id mops --org acme --kind employee \
    --role marketing_ops >/dev/null 2>&1 || bail "principal mops"
"$VIGIL" principal add v --id agt --org acme --kind employee \
    --role agent >/dev/null 2>&1 || bail "principal agt"

# --- usage ----------------------------------------------------------------------
vg help export
has "$OUT" "vigil export DIR --consumer C --recipient R --purpose P" \
    "help export shows the usage"
vg help
like "$OUT" '^  export ' "the command list names export"
vg export v --consumer dm-vendor --recipient acme-dm --purpose marketing \
    --fields name,phone --limit 10
exit_is 1 "no --as: usage error"
has "$ERR" "--as" "it names --as"
vg export v --consumer dm-vendor --recipient acme-dm --purpose marketing \
    --fields name,phone --limit 0 --as mops
exit_is 1 "--limit 0: usage error"
vg export v --consumer dm-vendor --recipient acme-dm --purpose marketing \
    --fields name,shoe_size --limit 10 --as mops
exit_is 1 "an unknown field: usage error"
has "$ERR" "--fields" "it names --fields"
vg export v --consumer dm-vendor --recipient acme-dm --purpose marketing \
    --fields phone --region Atlantis --limit 10 --as mops
exit_is 1 "a region that is no province: usage error"
has "$ERR" "--region" "it names --region"
vg export v --consumer 'Dm Vendor' --recipient acme-dm --purpose marketing \
    --fields phone --limit 10 --as mops
exit_is 1 "a malformed consumer name: usage error"
vg export v --consumer dm-vendor --recipient acme-dm --purpose marketing \
    --fields phone --limit 10 --as nobody
exit_is 2 "an unknown principal: exit 2"

if command -v script >/dev/null 2>&1; then
	script -qec "'$VIGIL' export v --consumer dm-vendor --recipient acme-dm \
	    --purpose marketing --fields phone --limit 1 --as mops" /dev/null \
	    >tty.out 2>&1
	has "$(cat tty.out)" "not a terminal" \
	    "standard output on a terminal: refused (the CLI shows no clear value on a screen)"
else
	skip "standard output on a terminal: refused" "no script(1)"
fi

# --- a pseudonymised export ------------------------------------------------------
vg export v --consumer dm-vendor --recipient acme-dm --purpose marketing \
    --fields name,phone,email,region --limit 500 --as mops -o dm.csv
exit_is 0 "dm-vendor, 500 customers: exit 0"
like "$ERR" '^vigil export: ex_[a-z2-7]{26}: 500 customers and 30 canaries for acme-dm \(consumer dm-vendor\) in dm.csv$' \
    "it names the export, rows, canaries and recipient"
ex1=$(printf '%s\n' "$ERR" | sed -n 's/^vigil export: \(ex_[a-z2-7]*\):.*/\1/p')
is "$OUT" "" "nothing on stdout with -o"
mode_is dm.csv -rw------- "the file is mode 0600"
is "$(head -n 1 dm.csv)" "pseudonym,name,phone,email,region" \
    "header: pseudonym, then the fields asked for"
is "$(wc -l <dm.csv | tr -d ' ')" 531 "500 customers and 30 canaries (and the header)"
is "$(sed 1d dm.csv | grep -cvE '^psn_[a-z2-7]{39},')" 0 \
    "every row starts with a pseudonym"
is "$(sed 1d dm.csv | cut -d, -f3 | grep -cvE '^\+86 \*{7}[0-9]{4}$')" 0 \
    "every phone is masked (+86 *******1234)"
is "$(sed 1d dm.csv | cut -d, -f4 | grep -cv '\*')" 0 "every e-mail is masked"
is "$(sed 1d dm.csv | cut -d, -f5 | grep -cvE '^CN-[A-Z]{2}$')" 0 \
    "regions as they are"
# No clear phone of any customer is in the file.
sed 1d real.csv | cut -d, -f2 | tr -d ' -' | sed 's/^+86//; s/^0086//' |
    sed -n 's/^\(1[0-9]\{10\}\)$/\1/p' >phones.txt
check "the customers' phone numbers, as digits ($(wc -l <phones.txt | tr -d ' '))" \
    test "$(wc -l <phones.txt)" -gt 2900
is "$(grep -cFf phones.txt dm.csv)" 0 "none of them is in the file"

# --- clear fields, a region, the canaries ---------------------------------------------
vg export v --consumer courier --recipient sf-express --purpose delivery \
    --fields phone,name,email,region --region GD --limit 40 --as mops
exit_is 0 "courier, 40 customers of Guangdong, to standard output: exit 0"
printf '%s\n' "$OUT" >courier.csv
ex2=$(printf '%s\n' "$ERR" | sed -n 's/^vigil export: \(ex_[a-z2-7]*\):.*/\1/p')
has "$ERR" "40 customers and 2 canaries for sf-express" "40 customers, 2 canaries"
is "$(wc -l <courier.csv | tr -d ' ')" 43 "43 lines"
is "$(sed 1d courier.csv | cut -d, -f5 | grep -cv '^CN-GD$')" 0 \
    "every row is in CN-GD, the canaries too"
is "$(sed 1d courier.csv | cut -d, -f2 | grep -cvE '^\+861[3-9][0-9]{9}$')" 0 \
    "every phone is in clear, canaries' alike (+861XXXXXXXXXX)"
is "$(sed 1d courier.csv | cut -d, -f4 | grep -cv '\*')" 0 \
    "e-mail masked: not in the consumer's clear list"
misses=0 nobody=0 somebody=0
sed 1d courier.csv | while IFS=, read -r psn phone name email region; do
	id=$("$VIGIL" pseudonym v --consumer courier --resolve "$psn" 2>/dev/null)
	if "$VIGIL" lookup v --phone "$phone" >/dev/null 2>&1; then
		hit=1
	else
		hit=0
	fi
	if "$VIGIL" show v "$id" >/dev/null 2>&1; then
		echo "$hit customer"
	else
		echo "$hit nobody"
	fi
done >kinds.txt
is "$(grep -c '^0 nobody$' kinds.txt)" 2 \
    "2 rows are canaries: their phones miss the vault, their pseudonyms resolve to no customer"
is "$(grep -c '^1 customer$' kinds.txt)" 40 \
    "the 40 others: a customer's phone and pseudonym"
is "$(grep -c -v -e '^0 nobody$' -e '^1 customer$' kinds.txt)" 0 "nothing in between"

# --- honeytokens are never exported ------------------------------------------------------
vg export v --consumer dm-vendor --recipient acme-dm --purpose marketing \
    --fields phone --limit 100000 --as mops -o all.csv
exit_is 0 "every customer: exit 0"
has "$ERR" "3000 customers and" "3000 rows: the 3030 stored less the 30 honeytokens"

# --- refusals --------------------------------------------------------------------------
audit_n() {
	"$VIGIL" audit query v --action export 2>/dev/null | wc -l | tr -d ' '
}
n0=$(audit_n)
vg export v --consumer dm-vendor --recipient acme-dm --purpose marketing \
    --fields phone --limit 10 --as agt -o refused.csv
exit_is 2 "an agent: exit 2"
has "$ERR" "refused: role_not_allowed" "role_not_allowed"
check "no file is left behind" test ! -e refused.csv
vg export v --consumer nobody --recipient acme-dm --purpose marketing \
    --fields phone --limit 10 --as mops
exit_is 2 "a consumer the policy does not list: exit 2"
has "$ERR" "refused: consumer_not_allowed" "consumer_not_allowed"
vg export v --consumer dm-vendor --recipient acme-dm --purpose delivery \
    --fields phone --limit 10 --as mops
exit_is 2 "a purpose the consumer lacks: exit 2"
has "$ERR" "refused: purpose_not_allowed" "purpose_not_allowed"
vg export v --consumer courier --recipient sf-express --purpose delivery \
    --fields phone --limit 50001 --as mops
exit_is 2 "over the courier's max_rows: exit 2"
has "$ERR" "refused: too_many_rows (at most 50000 rows for this consumer)" \
    "too_many_rows, with the limit"
is "$(audit_n)" $((n0 + 4)) "four refusals, four export entries"
is "$("$VIGIL" audit query v --action export --decision deny 2>/dev/null |
    grep -c '"vigil.detail":"consumer=nobody,recipient=acme-dm,rows=10"')" 1 \
    "a refusal's entry names consumer, recipient and rows"
echo keep >exists.csv
vg export v --consumer dm-vendor --recipient acme-dm --purpose marketing \
    --fields phone --limit 10 --as mops -o exists.csv
exit_is 2 "an existing -o file: exit 2"
is "$(cat exists.csv)" keep "it is left as it was"

# --- the decision, explained ---------------------------------------------------------
vg policy explain v --principal mops --action export --consumer courier \
    --purpose delivery --fields phone,name,email --rows 10
exit_is 0 "policy explain --action export: exit 0"
has "$OUT" "decision: allow (ok)" "allowed"
has "$OUT" "in clear: name, phone" "names the fields in clear"
has "$OUT" "masked (pseudonymised export): email" "and the masked one"
vg policy explain v --principal mops --action export --consumer courier \
    --purpose delivery --fields phone --rows 50001
has "$OUT" "decision: deny (too_many_rows)" "over max_rows: too_many_rows"

# --- manifests ---------------------------------------------------------------------------
vg export list v
exit_is 0 "export list: exit 0"
is "$(printf '%s\n' "$OUT" | wc -l | tr -d ' ')" 3 "three exports"
has "$OUT" "$ex1" "the first is listed"
vg export list v --json
is "$(printf '%s\n' "$OUT" | tail -n 1 | json 'd["id"]')" "$ex1" \
    "newest first: the first export is last"
vg export show v "$ex2"
exit_is 0 "export show: exit 0"
has "$OUT" "recipient     sf-express" "recipient"
has "$OUT" "clear         name,phone" "the fields given in clear"
has "$OUT" "region        CN-GD" "the region"
vg export show v "$ex2" --json
is "$(printf '%s\n' "$OUT" | json 'd["rows"], d["canaries"], d["consumer"], d["principal"]')" \
    "(40, 2, 'courier', 'mops')" "show --json: rows, canaries, consumer, principal"
vg export show v ex_aaaaaaaaaaaaaaaaaaaaaaaaaa
exit_is 2 "an unknown export: exit 2"
vg export show v nope
exit_is 1 "a malformed id: usage error"

# --- audit ----------------------------------------------------------------------------
rows=$("$VIGIL" audit query v --action export.row 2>/dev/null |
    grep -c "\"vigil.detail\":\"export=$ex1,region=CN-[A-Z][A-Z]\"")
is "$rows" 500 "500 export.row entries name the first export and a region"
man=$("$VIGIL" audit query v --action export --decision allow 2>/dev/null |
    grep "export=$ex1,")
like "$man" "\"vigil.detail\":\"export=$ex1,consumer=dm-vendor,recipient=acme-dm,rows=500,canaries=30,canary_set=[0-9a-f]{32}\"" \
    "the manifest entry: export, consumer, recipient, rows, canaries, canary_set"
has "$man" '"user.id":"mops"' "it names the principal"
has "$man" '"source.address":"cli:local:' "and who ran the command"
cus=$("$VIGIL" audit query v --action export.row 2>/dev/null |
    grep "export=$ex1," | head -n 1 |
    sed -n 's/.*"vigil.customer":"\(cus_[a-z2-7]*\)".*/\1/p')
vg audit who-viewed v "$cus"
like "$OUT" "export\.row +allow +ok +marketing" \
    "who-viewed lists an exported customer's export.row entry"
vg audit verify v
exit_is 0 "audit verify: exit 0"

done_testing
