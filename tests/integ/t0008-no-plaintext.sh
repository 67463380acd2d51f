#!/bin/sh
# No plaintext at rest: after importing 2,000 generated customers, a
# lookup and a key rotation + rewrap, no name, phone (canonical, bare or
# as typed), e-mail, account id or address of a 200-row sample appears
# in any byte of any file under the vault dir: while the WAL exists, and
# again after a checkpoint.  Positive controls prove the search finds
# such values when they are there.
. "$(dirname "$0")/lib.sh"

V=$T/vault
"$VIGIL" gen-customers --count 2000 --seed 5 --out c.csv || bail "gen failed"
"$VIGIL" init "$V" >/dev/null 2>&1 || bail "init failed"

# Keep one extra SQLite connection open on the vault while vigil works,
# so that vigil.db-wal and -shm are not removed when vigil closes.
python3 -c '
import os, sqlite3, sys, time
c = sqlite3.connect(sys.argv[1])
c.execute("select count(*) from sqlite_master").fetchall()
open(sys.argv[2], "w").close()
t = time.time()
while not os.path.exists(sys.argv[3]) and time.time() - t < 120:
    time.sleep(0.05)
c.close()
' "$V/vigil.db" holder.ready holder.stop &
holder=$!
_bgpids="$_bgpids $holder"
n=0
while [ ! -e holder.ready ] && [ $n -lt 200 ]; do
	sleep 0.05
	n=$((n + 1))
done
[ -e holder.ready ] || bail "the SQLite holder did not start"

# --- the sample and its patterns ---------------------------------------------
# Every 10th customer: 200 rows.  Patterns, one a line: name, phone as
# typed, canonical +86 phone, +86 with a space, bare 11 digits, the
# 8-digit subscriber part, e-mail, e-mail local part, account id,
# address.  Also writes sample.tsv (kind<TAB>value) for diagnostics.
python3 -c '
import csv, re, sys
rows = list(csv.DictReader(open("c.csv", newline="", encoding="utf-8")))
assert len(rows) == 2000, len(rows)
pats = []
for r in rows[::10]:
    raw = r["phone"]
    d = re.sub(r"\D", "", raw)
    if len(d) == 15 and d.startswith("0086"):
        d = d[4:]
    elif len(d) == 13 and d.startswith("86"):
        d = d[2:]
    if not re.fullmatch(r"1[3-9]\d{9}", d):
        sys.exit("cannot canonicalise phone %r" % raw)
    local = r["email"].split("@")[0]
    for kind, val in (("name", r["name"]), ("phone-raw", raw),
                      ("phone-e164", "+86" + d), ("phone-spaced", "+86 " + d),
                      ("phone-bare", d), ("phone-subscriber", d[3:]),
                      ("email", r["email"]), ("account_id", r["account_id"]),
                      ("address", r["address"])):
        pats.append((kind, val))
    if len(local) >= 6:
        pats.append(("email-local", local))
for kind, val in pats:
    if len(val.encode()) < 6:
        sys.exit("pattern too short to be meaningful: %r" % val)
with open("patterns.txt", "w", encoding="utf-8", newline="\n") as f:
    for kind, val in pats:
        f.write(val + "\n")
with open("sample.tsv", "w", encoding="utf-8") as f:
    for kind, val in pats:
        f.write("%s\t%s\n" % (kind, val))
' || bail "cannot build the patterns"
npat=$(wc -l <patterns.txt | tr -d ' ')
diag "$npat patterns from 200 customers"
check "at least 200 x 9 patterns were built" test "$npat" -ge 1800
check "no pattern is empty" sh -c '! grep -qx "" patterns.txt'

# leaks DIR: prints "file: value" for every pattern found in any file
# under DIR (binary files read as text, ASCII case ignored).
leaks() {
	grep -r -a -o -i -F -f "$T/patterns.txt" -- "$1" 2>/dev/null |
	    sort -u | head -n 20
}

# --- positive controls -----------------------------------------------------------
mkdir ctl
cp c.csv ctl/plain.csv
hits=$(grep -c -F -f patterns.txt c.csv)
check "control: the search finds the 200 sampled rows in the plain CSV ($hits lines)" \
    test "$hits" -ge 200
hits=$(awk 'NR > 1 && (NR - 2) % 10 == 0' c.csv | grep -c -F -f patterns.txt)
is "$hits" 200 "control: every sampled row matches a pattern"
addr=$(sed -n 52p c.csv | cut -d, -f5)
phone_bare=$(awk -F'\t' '$1 == "phone-bare" { n++; if (n == 3) print $2 }' sample.tsv)
email=$(awk -F'\t' '$1 == "email" { n++; if (n == 7) print $2 }' sample.tsv)
# Values buried in binary files: a copy of the real vigil.db with an
# address spliced into its middle, a -wal-like file with a phone between
# NUL bytes, and an upper-cased e-mail in a nested directory.
mkdir -p ctl/sub/deeper
size=$(wc -c <"$V/vigil.db" | tr -d ' ')
half=$((size / 2))
{
	head -c "$half" "$V/vigil.db"
	printf '%s' "$addr"
	tail -c +"$((half + 1))" "$V/vigil.db"
} >ctl/vigil.db
{
	head -c 1000 /dev/zero
	printf '%s' "$phone_bare"
	head -c 1000 /dev/urandom
} >ctl/vigil.db-wal
printf '\000\001%s\000' "$(printf '%s' "$email" | tr 'a-z' 'A-Z')" >ctl/sub/deeper/blob
rm ctl/plain.csv
found=$(leaks ctl)
has "$found" "ctl/vigil.db:$addr" "control: an address inside a binary database copy is found"
has "$found" "ctl/vigil.db-wal:$phone_bare" "control: a bare phone between NUL bytes is found"
has "$found" "ctl/sub/deeper/blob:" "control: an upper-cased e-mail in a nested dir is found"

# --- build the vault ---------------------------------------------------------------
vg import "$V" c.csv
exit_is 0 "import of 2,000 customers: exit 0"
like "$OUT" '^imported 2000 customers' "2,000 customers imported"

vg lookup "$V" --phone "$(sed -n 11p c.csv | cut -d, -f2)"
exit_is 0 "a lookup of a sampled customer by phone works"
vg lookup "$V" --email "$(sed -n 21p c.csv | cut -d, -f3)"
exit_is 0 "a lookup of a sampled customer by e-mail works"
vg keys rotate "$V"
exit_is 0 "key rotation works"
"$VIGIL" import "$V" - >/dev/null 2>&1 <<EOF
name,phone
$(sed -n 31p c.csv | cut -d, -f1),$(sed -n 31p c.csv | cut -d, -f2)
EOF
vg keys rewrap "$V" --batch 500
exit_is 0 "rewrap works"
like "$OUT" '^re-sealed 2000 of 2001 customers' "rewrap re-sealed the 2,000"
vg lookup "$V" --phone "$(sed -n 31p c.csv | cut -d, -f2)"
exit_is 0 "lookups work after the rewrap"
vg pseudonym "$V" --consumer crm "$(printf '%s\n' "$OUT" | head -n 1)"
exit_is 0 "a pseudonym is made"

# --- scan with the WAL in place ---------------------------------------------------
check "vigil.db-wal exists while a connection is open" test -s "$V/vigil.db-wal"
check "vigil.db-shm exists while a connection is open" test -e "$V/vigil.db-shm"
diag "files scanned:" "$(ls -l "$V")"
wal_size=$(wc -c <"$V/vigil.db-wal" | tr -d ' ')
check "the WAL holds the imported data (> 1 MB)" test "$wal_size" -gt 1000000
found=$(leaks "$V")
is "$found" "" "no sampled value in any file of the vault (with the WAL)"

# --- checkpoint and scan again -------------------------------------------------------
: >holder.stop
wait "$holder" 2>/dev/null
if command -v sqlite3 >/dev/null 2>&1; then
	sqlite3 "$V/vigil.db" 'PRAGMA wal_checkpoint(TRUNCATE);' >/dev/null
else
	python3 -c 'import sqlite3, sys
c = sqlite3.connect(sys.argv[1]); c.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall(); c.close()' "$V/vigil.db"
fi
wal_size=0
[ -e "$V/vigil.db-wal" ] && wal_size=$(wc -c <"$V/vigil.db-wal" | tr -d ' ')
is "$wal_size" 0 "after the checkpoint the WAL is empty or gone"
db_size=$(wc -c <"$V/vigil.db" | tr -d ' ')
check "vigil.db holds the data (> 500 KB)" test "$db_size" -gt 500000
found=$(leaks "$V")
is "$found" "" "no sampled value in any file of the vault (after the checkpoint)"

vg stats "$V" --json
is "$(printf '%s' "$OUT" | json 'd["customers"]')" 2001 "the vault still opens with 2,001 customers"
vg lookup "$V" --phone "$(sed -n 11p c.csv | cut -d, -f2)"
exit_is 0 "and lookups still work after the checkpoint"
found=$(leaks "$V")
is "$found" "" "no sampled value after reopening either"

done_testing
