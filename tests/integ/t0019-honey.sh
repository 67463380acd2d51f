#!/bin/sh
# vigil honey plant / status on a vault made by gen-customers + import:
# refusals (empty vault, more honey than real customers), honey records
# found by phone like any customer, spread over the rowids rather than
# appended, with real created times and epochs; honey.set mode 0600 and
# no id in it; wrong master key, damaged and foreign sets; planting again;
# the audit entry (count only) and audit verify.
. "$(dirname "$0")/lib.sh"

SEED=4242

"$VIGIL" gen-customers --count 5000 --seed 3 --out real.csv || bail "gen"
"$VIGIL" init v >/dev/null 2>&1 || bail "init failed"
"$VIGIL" import v real.csv >/dev/null 2>&1 || bail "import failed"

# --- refusals ----------------------------------------------------------------
"$VIGIL" init empty >/dev/null 2>&1 || bail "init empty"
vg honey plant empty --count 1
exit_is 2 "planting into an empty vault: exit 2"
like "$ERR" 'no customers.*hide among' "the message says there is nothing to hide among"
has "$ERR" "nothing was planted" "and that nothing was planted"
if [ -e empty/honey.set ]; then
	not_ok "no honey.set in the empty vault"
else
	ok "no honey.set in the empty vault"
fi

"$VIGIL" init few >/dev/null 2>&1 || bail "init few"
sed -n '1,11p' real.csv | "$VIGIL" import few - >/dev/null 2>&1 || bail "import few"
vg honey plant few --count 11
exit_is 2 "11 honey records among 10 customers: exit 2"
has "$ERR" "outnumber the 10 real customers" "the message says why"
is "$(customers few)" 10 "the refused plant added nobody"
vg honey plant few
exit_is 1 "no --count: usage error"
vg honey plant few --count 0
exit_is 1 "--count 0: usage error"
vg honey plant few --count 2 --seed nope
exit_is 1 "a seed that is not a number: usage error"
vg honey frobnicate few
exit_is 1 "an unknown subcommand: usage error"

vg help honey
has "$OUT" "vigil honey plant DIR --count N" "help honey shows the usage"
vg help
like "$OUT" '^  honey ' "the command list names honey"

# --- plant --------------------------------------------------------------------
index_before=$("$VIGIL" stats v --json | json 'd["index_entries"]')
vg honey plant v --count 200 --seed $SEED
exit_is 0 "plant 200 honey records among 5000: exit 0"
is "$OUT" "planted 200 honey records" "it says how many"
unlike "$OUT$ERR" 'cus_' "and names no customer"
vg honey status v
exit_is 0 "status: exit 0"
is "$OUT" "200 honey records" "status counts 200"
vg honey status v --json
is "$(printf '%s\n' "$OUT" | json 'd["honey_records"]')" 200 "status --json counts 200"
is "$(customers v)" 5200 "the vault holds 5200 customers"
is "$("$VIGIL" stats v --json | json 'd["index_entries"]')" $((index_before + 600)) \
    "three index entries per honey record, as for any customer"

# The honey records are the seed's first generated customers: found by
# phone like anyone.
"$VIGIL" gen-customers --count 200 --seed $SEED --out honey.csv || bail "gen honey"
: >honey.ids
miss=0
for p in $(tail -n +2 honey.csv | cut -d, -f2 | tr -d ' '); do
	id=$("$VIGIL" lookup v --phone "$p" 2>/dev/null | head -n 1)
	case $id in
	cus_*) echo "$id" >>honey.ids ;;
	*) miss=$((miss + 1)) ;;
	esac
done
is "$miss" 0 "every honey record is found by its phone"
is "$(sort -u honey.ids | wc -l | tr -d ' ')" 200 "200 distinct customers"
id1=$(head -n 1 honey.ids)
vg show v "$id1"
exit_is 0 "a honey record is shown like any customer"

# Where they sit, read from the database itself.
cat >where.py <<'EOF'
import base64, sqlite3, sys
def raw(s):
    s = s[4:].upper()
    return base64.b32decode(s + "=" * (-len(s) % 8))
honey = set(raw(l.strip()) for l in open(sys.argv[2]) if l.strip())
db = sqlite3.connect("file:%s?mode=ro" % sys.argv[1], uri=True)
rows = db.execute("SELECT rowid, id, epoch, created FROM customers ORDER BY rowid").fetchall()
n = len(rows)
pos = [i for i, r in enumerate(rows) if bytes(r[1]) in honey]
real = [r for r in rows if bytes(r[1]) not in honey]
what = sys.argv[3]
if what == "found":
    print(len(pos))
elif what == "contiguous":
    print([r[0] for r in rows] == list(range(1, n + 1)))
elif what == "tail":
    print(sum(1 for i in pos if i >= n - n // 10))
elif what == "half":
    print(sum(1 for i in pos if i < n // 2))
elif what == "created":
    c = set(r[3] for r in real)
    print(all(rows[i][3] in c for i in pos))
elif what == "epochs":
    e = set(r[2] for r in real)
    print(all(rows[i][2] in e for i in pos))
elif what == "monotone":
    print(all(rows[i][3] <= rows[i + 1][3] for i in range(n - 1)))
elif what == "copies":
    # Each id is in its row, the id index and three bidx keys.  A stale
    # copy of the rows as they were (a freed page, say) would give every
    # real id more; SQLite's own page balancing leaves a spare copy of
    # about 1 id in 1000 in the free space of a page, honey or real.
    data = open(sys.argv[1], "rb").read()
    h = [data.count(bytes(rows[i][1])) for i in pos]
    r = [data.count(bytes(x[1])) for x in real[:1000]]
    print(min(h) == 5 and min(r) == 5 and sum(c != 5 for c in h) <= 4
          and sum(c != 5 for c in r) <= 10)
EOF
where() {
	python3 where.py v/vigil.db honey.ids "$1"
}
is "$(where found)" 200 "all 200 are rows of customers"
is "$(where contiguous)" True "rowids run 1..5200 with no gap"
tail=$(where tail)
if [ "$tail" -ge 5 ] && [ "$tail" -le 40 ]; then
	ok "honey records in the last 10% of rowids: $tail of 200 (about 20 expected)"
else
	not_ok "honey records in the last 10% of rowids: about 20" "got $tail"
fi
half=$(where half)
if [ "$half" -ge 70 ] && [ "$half" -le 130 ]; then
	ok "in the first half: $half (about 100 expected)"
else
	not_ok "in the first half: about 100" "got $half"
fi
is "$(where created)" True "every honey created time is one real customers have"
is "$(where epochs)" True "every honey key epoch is one real customers have"
is "$(where monotone)" True "created times still never go down along the rowids"
is "$(where copies)" True \
    "ids, honey or real, are in vigil.db 5 times: no stale copy of the old order"

# --- honey.set ------------------------------------------------------------------
mode_is v/honey.set -rw------- "honey.set has mode 0600"
is "$(head -c 4 v/honey.set)" VGHS "honey.set starts with its magic"
is "$(wc -c <v/honey.set | tr -d ' ')" $((8 + 24 + 8 + 16 * 200 + 16)) \
    "it holds a sealed list of 200 ids"
clear=$(python3 - v/honey.set honey.ids <<'EOF'
import base64, sys
data = open(sys.argv[1], "rb").read()
def raw(s):
    s = s[4:].upper()
    return base64.b32decode(s + "=" * (-len(s) % 8))
print(sum(1 for l in open(sys.argv[2]) if l.strip() and raw(l.strip()) in data))
EOF
)
is "$clear" 0 "no honey id appears in honey.set in clear"

# Wrong master key, a damaged set, another vault's set.
cp v/master.key good.key
"$VIGIL" init other >/dev/null 2>&1 || bail "init other"
cp other/master.key v/master.key
vg honey status v
exit_is 2 "status with the wrong master key: exit 2"
has "$ERR" "master key does not match" "and says the key does not match"
cp good.key v/master.key

cp v/honey.set good.set
python3 -c '
import sys
b = bytearray(open(sys.argv[1], "rb").read())
b[100] ^= 1
open(sys.argv[1], "wb").write(bytes(b))
' v/honey.set
vg honey status v
exit_is 2 "status on a damaged honey.set: exit 2"
has "$ERR" "does not open under this vault's master key" "the message says so"
vg honey plant v --count 1
exit_is 2 "plant on a damaged honey.set: exit 2"
has "$ERR" "nothing was planted" "nothing was planted"
is "$(customers v)" 5200 "and no customer was added"
cp good.set v/honey.set
chmod 600 v/honey.set

"$VIGIL" import other real.csv >/dev/null 2>&1 || bail "import other"
cp good.set other/honey.set
vg honey status other
exit_is 2 "this vault's honey.set in another vault: exit 2"
has "$ERR" "belongs to another vault" "the message says why"
rm -f other/honey.set

# --- planting again ----------------------------------------------------------------
vg honey plant v --count 50
exit_is 0 "plant 50 more: exit 0"
vg honey status v
is "$OUT" "250 honey records" "the set now counts 250"
is "$(customers v)" 5250 "and the vault 5250 customers"
vg lookup v --phone "$(sed -n 2p honey.csv | cut -d, -f2 | tr -d ' ')"
is "$(printf '%s\n' "$OUT" | head -n 1)" "$(head -n 1 honey.ids)" \
    "the first plant's records are still there"

# --- audit -----------------------------------------------------------------------
vg audit query v --action honey.plant
exit_is 0 "audit query --action honey.plant: exit 0"
entries=$(printf '%s\n' "$OUT" | python3 -c '
import json, sys
L = [json.loads(l) for l in sys.stdin if l.strip()]
print(" ".join("%s:%s:%s" % (d["vigil.decision"], d.get("vigil.detail"), "vigil.customer" in d) for d in L))
')
is "$entries" "allow:count=200:False deny:count=1:False allow:count=50:False" \
    "three entries: 200 planted, 1 refused, 50 planted; count only, no customer"
unlike "$OUT" 'cus_' "no honey.plant entry names a customer"
vg audit verify v
exit_is 0 "audit verify still passes"

done_testing
