#!/bin/sh
# vigil audit tail, query and who-viewed: the audit log read back as ECS
# JSON lines, filters, the data-subject view, bad filters, a damaged
# chain, and no personal value anywhere in what is printed.
. "$(dirname "$0")/lib.sh"

# jl EXPR: evaluates a Python expression over L, the list of JSON objects
# read one per line from stdin; prints JSON-ERROR if a line does not parse.
jl() {
	python3 -c '
import json, re, sys
try:
    L = [json.loads(l) for l in sys.stdin.read().splitlines() if l]
except ValueError:
    print("JSON-ERROR")
    sys.exit(0)
print(eval(sys.argv[1]))
' "$1"
}

# field N ROW: the Nth CSV field of a generated row (no quoted commas).
field() {
	printf '%s\n' "$2" | cut -d, -f"$1"
}

"$VIGIL" init v >/dev/null 2>&1 || bail "init failed"
"$VIGIL" gen-customers --count 50 --seed 9 --out gen.csv || bail "gen"
"$VIGIL" import v gen.csv >/dev/null 2>&1 || bail "import failed"

row1=$(sed -n 2p gen.csv)
row2=$(sed -n 3p gen.csv)
name1=$(field 1 "$row1")
name2=$(field 1 "$row2")
email1=$(field 3 "$row1")
email2=$(field 3 "$row2")
# The last 8 digits of each phone: present in every written form.
digits1=$(field 2 "$row1" | tr -cd 0-9 | tail -c 8)
digits2=$(field 2 "$row2" | tr -cd 0-9 | tail -c 8)
if [ ${#digits1} != 8 ] || [ ${#digits2} != 8 ]; then
	bail "no phone digits in gen.csv"
fi

# The CLI names its principal local:<user>, or local:uid<N> for odd names.
user=$(id -un)
case $user in
*[!A-Za-z0-9._-]*) principal="local:uid$(id -u)" ;;
*) principal="local:$user" ;;
esac

# --- some access to audit ---------------------------------------------------
vg lookup v --phone "$(field 2 "$row1")"
id1=$(printf '%s\n' "$OUT" | head -n 1)
like "$id1" '^cus_[a-z2-7]{26}$' "lookup of row 1 hits"
vg lookup v --email "$email2"
id2=$(printf '%s\n' "$OUT" | head -n 1)
like "$id2" '^cus_[a-z2-7]{26}$' "lookup of row 2 hits"
isnt "$id1" "$id2" "two different customers"
vg lookup v --phone 13700000000
exit_is 2 "a lookup of a phone nobody has misses"
vg lookup v --phone 12
exit_is 2 "a lookup of a malformed phone fails"
vg show v "$id1"
exit_is 0 "show the first customer"
# Twenty more hits, so that tail has more than its default 20 to choose.
hits=0
for n in 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 21 22 23; do
	"$VIGIL" lookup v --phone "$(field 2 "$(sed -n "${n}p" gen.csv)")" \
	    >/dev/null 2>&1 && hits=$((hits + 1))
done
is "$hits" 20 "twenty more lookups hit"

vg audit query v
exit_is 0 "query without filters: exit 0" || bail "vigil audit query fails"
all=$OUT
total=$(printf '%s\n' "$all" | jl 'len(L)')
# init, import, 2 hits, a miss, a malformed value, a view, 20 hits (and
# possibly more entries of init or import: count what is there).
if [ "$total" -ge 27 ] 2>/dev/null; then
	ok "query prints every entry ($total)"
else
	not_ok "query prints every entry" "got $total lines"
fi
is "$(printf '%s\n' "$all" | jl '[d["event.sequence"] for d in L] == list(range(len(L)))')" \
    True "query prints the chain in log order, seq 0 up"
is "$(printf '%s\n' "$all" | jl 'all(re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z", d["@timestamp"]) for d in L)')" \
    True "@timestamp is RFC 3339 UTC with nanoseconds"
is "$(printf '%s\n' "$all" | jl '[d["@timestamp"] for d in L] == sorted(d["@timestamp"] for d in L)')" \
    True "times do not go backwards"
now=$(date -u +%Y-%m-%d)
is "$(printf '%s\n' "$all" | jl 'L[-1]["@timestamp"][:10]')" "$now" \
    "the last entry is from today (UTC)"
is "$(printf '%s\n' "$all" | jl 'set(d["observer.name"] for d in L)')" \
    "{'cli'}" "observer.name is the cli chain"
is "$(printf '%s\n' "$all" | jl 'set(d["user.id"] for d in L)')" \
    "{'$principal'}" "user.id is the principal ($principal)"
is "$(printf '%s\n' "$all" | jl 'set(d["source.address"] for d in L)')" \
    "{'cli'}" "source.address is cli"
is "$(printf '%s\n' "$all" | jl 'all(re.fullmatch(r"[0-9a-f]{64}", d["vigil.leaf"]) and isinstance(d["vigil.mac_epoch"], int) for d in L)')" \
    True "every entry has vigil.leaf (hex) and vigil.mac_epoch"
is "$(printf '%s\n' "$all" | jl 'all({"allow": "success", "deny": "failure", "miss": "failure"}.get(d["vigil.decision"], "unknown") == d["event.outcome"] for d in L)')" \
    True "event.outcome follows vigil.decision"
is "$(printf '%s\n' "$all" | jl 'len(set(len(d["vigil.request"]) for d in L if "vigil.request" in d)) == 1')" \
    True "vigil.request is present"

# --- tail -------------------------------------------------------------------
vg audit tail v
exit_is 0 "tail: exit 0"
is "$(printf '%s\n' "$OUT" | jl 'len(L)')" 20 "tail prints 20 entries by default"
is "$(printf '%s\n' "$OUT" | jl '[d["event.sequence"] for d in L]')" \
    "$(python3 -c "print(list(range($total - 20, $total)))")" \
    "tail prints the last 20, oldest first"
vg audit tail v -n 3
is "$(printf '%s\n' "$OUT" | jl '[d["event.sequence"] for d in L]')" \
    "[$((total - 3)), $((total - 2)), $((total - 1))]" "tail -n 3: the last three"
vg audit tail v -n 100000 --chain cli
is "$OUT" "$all" "tail -n 100000 --chain cli: the whole log, as query prints it"
vg audit tail v --chain nosuch
exit_is 1 "tail --chain of a chain that does not exist: exit 1"
has "$ERR" "nosuch" "it names the chain"

# --- query filters ------------------------------------------------------------
vg audit query v --principal "$principal"
is "$(printf '%s\n' "$OUT" | jl 'len(L)')" "$total" "--principal $principal: every entry"
vg audit query v --principal local:somebody-else
exit_is 0 "--principal nobody used: exit 0"
is "$OUT" "" "--principal nobody used: nothing"

vg audit query v --action lookup
is "$(printf '%s\n' "$OUT" | jl 'len(L)')" 24 "--action lookup: 22 hits, a miss, a malformed value"
is "$(printf '%s\n' "$OUT" | jl 'set(d["event.action"] for d in L)')" "{'lookup'}" \
    "--action lookup: only lookups"

vg audit query v --decision miss
exit_is 0 "--decision miss: exit 0"
is "$(printf '%s\n' "$OUT" | jl 'len(L)')" 1 "--decision miss: one entry"
is "$(printf '%s\n' "$OUT" | jl 'bool(re.fullmatch(r"[0-9a-f]{32}", L[0].get("vigil.probe", "")))')" \
    True "a miss has a vigil.probe (hex)"
is "$(printf '%s\n' "$OUT" | jl '"vigil.customer" in L[0]')" False \
    "a miss has no vigil.customer"
is "$(printf '%s\n' "$OUT" | jl 'L[0]["event.outcome"] + " " + L[0]["event.reason"] + " " + L[0]["vigil.fields"]')" \
    "failure no_match phone" "a miss: failure, no_match, field phone"

vg audit query v --decision deny --action lookup
is "$(printf '%s\n' "$OUT" | jl '[(d["event.reason"], "vigil.probe" in d, "vigil.customer" in d) for d in L]')" \
    "[('malformed_value', False, False)]" \
    "the malformed lookup: a deny, no probe, no customer"

vg audit query v --customer "$id1"
is "$(printf '%s\n' "$OUT" | jl '[d["event.action"] for d in L]')" \
    "['lookup', 'view']" "--customer: the lookup and the view"
vg audit query v --customer "$id1" --action view
is "$(printf '%s\n' "$OUT" | jl '[(d["event.action"], d["vigil.customer"]) for d in L]')" \
    "[('view', '$id1')]" "--customer --action view"

vg audit query v --limit 5
is "$(printf '%s\n' "$OUT" | jl '[d["event.sequence"] for d in L]')" \
    "[0, 1, 2, 3, 4]" "--limit 5: the first five"
vg audit query v --action lookup --decision allow --limit 3
is "$(printf '%s\n' "$OUT" | jl '[(d["event.action"], d["vigil.decision"]) for d in L]')" \
    "[('lookup', 'allow'), ('lookup', 'allow'), ('lookup', 'allow')]" \
    "filters combine with --limit"

# --- time ranges --------------------------------------------------------------
vg audit query v --until 2000-01-01T00:00:00Z
exit_is 0 "--until 2000-01-01T00:00:00Z: exit 0"
is "$OUT" "" "--until 2000-01-01T00:00:00Z: nothing"
vg audit query v --since 2000-01-01T00:00:00Z
is "$(printf '%s\n' "$OUT" | jl 'len(L)')" "$total" "--since 2000: everything"
vg audit query v --since 946684800
is "$(printf '%s\n' "$OUT" | jl 'len(L)')" "$total" "--since as unix seconds"
vg audit query v --since $(($(date +%s) + 3600))
is "$OUT" "" "--since an hour from now: nothing"
vg audit query v --until 2099-01-01T00:00:00.5+08:00
is "$(printf '%s\n' "$OUT" | jl 'len(L)')" "$total" "--until with fraction and offset"
t5=$(printf '%s\n' "$all" | jl 'L[5]["@timestamp"]')
vg audit query v --since "$t5"
is "$(printf '%s\n' "$OUT" | jl 'L[0]["event.sequence"] if L else None')" 5 \
    "--since an entry's own @timestamp includes it"
vg audit query v --until "$t5"
is "$(printf '%s\n' "$OUT" | jl '[d["event.sequence"] for d in L]')" \
    "[0, 1, 2, 3, 4]" "--until an entry's @timestamp excludes it"

# --- bad filters ----------------------------------------------------------------
for a in "--since yesterday" "--since 2026-13-01T00:00:00Z" \
    "--until 2026-02-29T00:00:00Z" "--until 2026-11-27T20:00:00" \
    "--customer cus_nope" "--decision maybe" "--limit 0" "--limit x" \
    "--chain Bad!" "--bogus" "--since 2026-11-28 --until 2026-11-27"; do
	# shellcheck disable=SC2086
	vg audit query v $a
	exit_is 1 "query $a: exit 1"
	like "$ERR" "^vigil audit: " "query $a: says why"
	is "$OUT" "" "query $a: prints nothing"
done
vg audit query
exit_is 1 "query without a directory: exit 1"
vg audit tail v -n 0
exit_is 1 "tail -n 0: exit 1"
vg audit query "$T/not-a-vault"
exit_is 2 "query of a directory without an audit log: exit 2"

# --- who-viewed -------------------------------------------------------------------
vg audit who-viewed v "$id1" --json
exit_is 0 "who-viewed --json: exit 0"
is "$(printf '%s\n' "$OUT" | jl '[(d["event.action"], d["vigil.decision"]) for d in L]')" \
    "[('lookup', 'allow'), ('view', 'allow')]" \
    "who-viewed --json: exactly the lookup and the view"
is "$(printf '%s\n' "$OUT" | jl 'set(d["vigil.customer"] for d in L)')" "{'$id1'}" \
    "who-viewed --json: only that customer"
wjson=$OUT
vg audit who-viewed v "$id1"
exit_is 0 "who-viewed: exit 0"
like "$OUT" '^TIME \(UTC\) +CHAIN +SEQ +PRINCIPAL +ACTION +DECISION +REASON +PURPOSE +CASE +FIELDS$' \
    "who-viewed: a table header"
is "$(printf '%s\n' "$OUT" | grep -c "^[0-9-]*T[0-9:]*Z  cli ")" 2 "who-viewed: two rows"
like "$OUT" "^[0-9-]*T[0-9:]*Z +cli +[0-9]+ +$principal +lookup +allow " "who-viewed: the lookup row"
like "$OUT" "^[0-9-]*T[0-9:]*Z +cli +[0-9]+ +$principal +view +allow " "who-viewed: the view row"
like "$OUT" "^2 audit entries about $id1\$" "who-viewed: a count at the end"
wtext=$OUT
vg audit who-viewed v "$id2" --json
is "$(printf '%s\n' "$OUT" | jl '[d["event.action"] for d in L]')" "['lookup']" \
    "who-viewed of the customer found by e-mail: one lookup"
vg audit who-viewed v cus_aaaaaaaaaaaaaaaaaaaaaaaaaa
exit_is 0 "who-viewed of a customer nobody saw: exit 0"
like "$OUT" "^0 audit entries about cus_a{26}\$" "who-viewed: says none"
vg audit who-viewed v cus_nope
exit_is 1 "who-viewed with a malformed id: exit 1"
vg audit who-viewed v
exit_is 1 "who-viewed without an id: exit 1"

# --- no personal values anywhere ---------------------------------------------------
vg audit tail v -n 100000
every="$all
$OUT
$wjson
$wtext"
decoded=$(printf '%s\n' "$all" | jl '"\n".join(json.dumps(d, ensure_ascii=False) for d in L)')
for s in "$digits1" "$digits2" "$name1" "$name2" "$email1" "$email2" \
    13700000000; do
	lacks "$every" "$s" "audit output never holds '$s'"
	lacks "$decoded" "$s" "decoded audit output never holds '$s'"
done

# --- more than one chain: merged by time, then chain ----------------------------------
cp -R v m || bail "copy"
cp -R m/audit/cli m/audit/node-1 || bail "copy chain"
vg audit query m
is "$(printf '%s\n' "$OUT" | jl 'len(L)')" $((2 * total)) "two chains: every entry of both"
is "$(printf '%s\n' "$OUT" | jl '[d["event.sequence"] for d in L[:4]]')" "[0, 0, 1, 1]" \
    "two chains: merged by time"
vg audit query m --chain node-1
is "$(printf '%s\n' "$OUT" | jl 'len(L)')" "$total" "--chain node-1: one chain"
vg audit who-viewed m "$id1" --json
is "$(printf '%s\n' "$OUT" | jl 'len(L)')" 4 "who-viewed reads every chain"

# --- a damaged chain ------------------------------------------------------------------
cp -R v d || bail "copy"
for seg in d/audit/cli/seg-*.log; do
	break
done
# Flip one byte inside the body of the first view=masked entry (seq 2).
python3 -c '
import sys
p = sys.argv[1]
b = bytearray(open(p, "rb").read())
i = b.find(b"view=masked")
b[i] ^= 1
open(p, "wb").write(b)
' "$seg" || bail "flip"
vg audit query d
exit_is 2 "query of a damaged chain: exit 2"
is "$(printf '%s\n' "$OUT" | jl '[d["event.sequence"] for d in L]')" "[0, 1]" \
    "what was read before the damage is printed"
has "$ERR" "chain 'cli'" "the error names the chain"
has "$ERR" "$(basename "$seg")" "the error names the segment"
like "$ERR" "offset [0-9]+" "the error gives the offset"
has "$ERR" "vigil audit verify" "the error suggests vigil audit verify"
vg audit tail d
exit_is 2 "tail of a damaged chain: exit 2"
vg audit who-viewed d "$id1"
exit_is 2 "who-viewed of a damaged chain: exit 2"

done_testing
