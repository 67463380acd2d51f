#!/bin/sh
# bench/trace.sh VAULT CUSTOMERS.CSV PLAIN.DB: the time `vigil trace` takes
# over a leaked file as large as the vault (every customer once, dirtied:
# a row number, the name, the phone as "+86 138-0013-8000", "0086 ..." or
# full width, the e-mail in upper case, a junk remark, Chinese headers),
# and, in the same run, the time a plain SQLite table of the same
# customers in clear takes to match the same rows by exact phone (no
# normalisation, no blind index, no audit log, no statistics).
# Prints "trace rows=N seconds=S matched=M rss_mb=R" and
# "trace-baseline rows=N seconds=S matched=M".
set -eu

BIN=${VIGIL_BIN:-$(cd "$(dirname "$0")/.." && pwd)/bin}
vault=$1
csv=$2
plain=$3
work=$(mktemp -d /tmp/vigil-trace.XXXXXX)
trap 'rm -rf "$work"' EXIT

now() { date +%s.%N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b - a }'; }

# The generator never puts a comma inside a name, phone or e-mail.
awk -F, 'BEGIN { OFS = ","; print "序号,姓名,手机号,邮箱,备注" }
NR > 1 {
	p = $2; sub(/^\+86/, "", p)
	if (NR % 3 == 0)
		p = "+86 " substr(p, 1, 3) "-" substr(p, 4, 4) "-" substr(p, 8)
	else if (NR % 3 == 1)
		p = "0086 " substr(p, 1, 3) " " substr(p, 4, 4) " " substr(p, 8)
	print NR - 1, $1, p, toupper($3), "VIP客户" (NR % 7)
}' "$csv" >"$work/leak.csv"
rows=$(($(wc -l <"$work/leak.csv") - 1))

t0=$(now)
/usr/bin/time -f '%M' -o "$work/rss" \
    "$BIN/vigil" trace --no-proofs --json "$vault" "$work/leak.csv" \
    >"$work/trace.json"
t1=$(now)
matched=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["matched"])' "$work/trace.json")
rss=$(awk '{ printf "%.0f", $1 / 1024 }' "$work/rss")
echo "trace rows=$rows seconds=$(secs "$t0" "$t1") matched=$matched rss_mb=$rss"

awk -F, 'NR > 1 { print $2 }' "$csv" >"$work/phones.csv"
t0=$(now)
bm=$(sqlite3 "$plain" <<SQL
CREATE TEMP TABLE leak(phone TEXT);
.mode csv
.import $work/phones.csv leak
SELECT count(*) FROM leak JOIN plain ON plain.phone = leak.phone;
SQL
)
t1=$(now)
echo "trace-baseline rows=$rows seconds=$(secs "$t0" "$t1") matched=$bm"
