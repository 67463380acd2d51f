#!/bin/sh
# vigil gen-customers: deterministic synthetic customers as CSV.
. "$(dirname "$0")/lib.sh"

HEADER="name,phone,email,account_id,address,region"

vg gen-customers --count 500 --seed 42
exit_is 0 "gen-customers --count 500 --seed 42: exit 0"
is "$ERR" "" "nothing on stderr"
printf '%s\n' "$OUT" >a.csv
"$VIGIL" gen-customers --count 500 --seed 42 >b.csv 2>/dev/null
check "the same seed gives identical bytes" cmp -s a.csv b.csv
"$VIGIL" gen-customers --count 500 --seed 43 >c.csv 2>/dev/null
check "a different seed gives different bytes" sh -c '! cmp -s a.csv c.csv'
sed 1d a.csv | sort >a.sorted
sed 1d c.csv | sort >c.sorted
is "$(comm -12 a.sorted c.sorted | wc -l | tr -d ' ')" 0 "seeds 42 and 43 share no row"

is "$(head -n 1 a.csv)" "$HEADER" "header columns are exactly $HEADER"
is "$(wc -l <a.csv | tr -d ' ')" 501 "500 customers + header = 501 lines"
is "$(tail -c 1 b.csv | od -An -tx1 | tr -d ' ')" 0a "the output ends with a newline"

# A prefix property: the first 100 of 500 are the 100 of --count 100.
"$VIGIL" gen-customers --count 100 --seed 42 >p.csv 2>/dev/null
is "$(head -n 101 a.csv | cksum)" "$(cksum <p.csv)" "--count 100 is a prefix of --count 500 (same seed)"

# Default seed is 1.
"$VIGIL" gen-customers --count 50 >d1.csv 2>/dev/null
"$VIGIL" gen-customers --count 50 --seed 1 >s1.csv 2>/dev/null
check "the default seed is 1" cmp -s d1.csv s1.csv

# --- the rows are well formed --------------------------------------------------
is "$(python3 -c '
import csv, re, sys
rows = list(csv.reader(open("a.csv", newline="", encoding="utf-8")))
bad = []
for i, r in enumerate(rows[1:], 2):
    if len(r) != 6:
        bad.append("%d:ncols" % i); continue
    name, phone, email, acct, addr, region = r
    if not re.fullmatch(r"[\u4e00-\u9fff]{2,4}", name): bad.append("%d:name" % i)
    d = re.sub(r"[ +-]", "", phone)
    if not re.fullmatch(r"(0086|86)?1[3-9]\d{9}", d): bad.append("%d:phone" % i)
    if not re.fullmatch(r"[a-z0-9._]+@[a-z0-9.-]+\.[a-z]{2,}", email): bad.append("%d:email" % i)
    if len(acct) < 3: bad.append("%d:account" % i)
    if not addr: bad.append("%d:address" % i)
    if not re.fullmatch(r"CN-[A-Z]{2}", region): bad.append("%d:region" % i)
print(" ".join(bad[:10]))
')" "" "every row: 6 columns, Han name, CN mobile, e-mail, account id, address, CN-xx region"
is "$(sed 1d a.csv | cut -d, -f3 | sort | uniq -d | wc -l | tr -d ' ')" 0 \
    "e-mails are unique"
is "$(sed 1d a.csv | cut -d, -f2 | tr -cd '0-9\n' | sed 's/^0*86//' | sort | uniq -d | wc -l | tr -d ' ')" 0 \
    "phones are unique"

# The generated file imports cleanly into a fresh vault.
"$VIGIL" init v >/dev/null 2>&1 || bail "init failed"
vg import v a.csv
exit_is 0 "the generated file imports strictly (no bad row)"
like "$OUT" '^imported 500 customers' "all 500 imported"

# --- --count 0 and --out --------------------------------------------------------
vg gen-customers --count 0
exit_is 0 "--count 0: exit 0"
is "$OUT" "$HEADER" "--count 0 prints the header only"

vg gen-customers --count 300 --seed 42 --out out.csv
exit_is 0 "--out: exit 0"
is "$OUT" "" "--out writes nothing to stdout"
check "--out writes the file" test -s out.csv
"$VIGIL" gen-customers --count 300 --seed 42 >stdout.csv 2>/dev/null
check "--out writes the same bytes as stdout" cmp -s out.csv stdout.csv

echo "old" >over.csv
vg gen-customers --count 2 --seed 42 --out over.csv
is "$(wc -l <over.csv | tr -d ' ')" 3 "--out replaces an existing file"

vg gen-customers --count 2 --out no/such/dir/x.csv
exit_is 2 "--out into a missing dir: exit 2"
like "$ERR" "^vigil gen-customers: " "with a vigil gen-customers: message"

vg gen-customers --count 100000001
exit_is 1 "--count above 10^8: exit 1"
vg gen-customers --count 5 --seed -3
exit_is 1 "--seed -3: exit 1"

done_testing
