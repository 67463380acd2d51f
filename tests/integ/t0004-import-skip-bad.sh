#!/bin/sh
# vigil import --skip-bad: good rows go in, bad rows go to REJECTS.csv
# (mode 0600) with _line,_field,_reason first, then the row as it was.
. "$(dirname "$0")/lib.sh"

"$VIGIL" init v >/dev/null 2>&1 || bail "init failed"

# Lines:  1 header; 2 good; 3 bad phone; 4-5 good (quoted newline);
# 6 bad email; 7 too few fields; 8 good; 9 too many fields; 10 bad email
# in a row with a quoted comma; 11 blank; 12 good; 13-14 no indexed field.
{
	printf 'name,phone,email\n'
	printf '王芳,13800138101,wf1@example.cn\n'
	printf '李四,12,ls@example.cn\n'
	printf '"赵\n六",13800138102,zl@example.cn\n'
	printf '钱七,13800138103,not-an-email\n'
	printf '孙八,13800138104\n'
	printf '周九,13800138105,zj@example.cn\n'
	printf '吴十,13800138106,wu@example.cn,EXTRA\n'
	printf '"郑,一",13800138107,bad@@x.cn\n'
	printf '\n'
	printf '冯二,13800138108,fe@example.cn\n'
	printf '"陈\n三",,\n'
} >mixed.csv

# rej FILE: one line per data row of a rejects file, as
# "ncols|_line|_field|_reason" by header position, then "last3:" with the
# last three cells; the first line is the header.
rej() {
	python3 -c '
import csv, sys
with open(sys.argv[1], newline="", encoding="utf-8") as f:
    rows = list(csv.reader(f))
h = rows[0]
print(",".join(h))
li, fi, ri = h.index("_line"), h.index("_field"), h.index("_reason")
for r in rows[1:]:
    g = lambda i: r[i] if i < len(r) else "<missing>"
    print("%d|%s|%s|%s" % (len(r), g(li), g(fi), g(ri)))
' "$1"
}

vg import v mixed.csv --skip-bad REJECTS.csv
exit_is 0 "--skip-bad with bad rows: exit 0"
like "$OUT" '^imported 4 customers, rejected 6 \(see REJECTS\.csv\)' \
    "reports 4 imported, 6 rejected"
is "$ERR" "" "nothing on stderr"
is "$(customers v)" 4 "stats shows the 4 good customers"
for p in 13800138101 13800138102 13800138105 13800138108; do
	vg lookup v --phone "$p"
	exit_is 0 "good row with phone $p was imported"
done
for p in 13800138103 13800138104 13800138106 13800138107; do
	vg lookup v --phone "$p"
	exit_is 2 "bad row with phone $p was not imported"
done

check "REJECTS.csv exists" test -f REJECTS.csv
mode_is REJECTS.csv -rw------- "REJECTS.csv is mode 0600"
is "$(head -n 1 REJECTS.csv | tr -d '\r')" "_line,_field,_reason,name,phone,email" \
    "REJECTS.csv header: _line,_field,_reason + the file's header"
rows=$(rej REJECTS.csv) || bail "REJECTS.csv does not parse"
is "$(printf '%s\n' "$rows" | sed 1d | wc -l | tr -d ' ')" 6 "one REJECTS row per bad row"

# _line,_field,_reason are always the first three cells, whatever the
# rejected row's own field count.
is "$(python3 -c '
import csv, sys
rows = list(csv.reader(open(sys.argv[1], newline="", encoding="utf-8")))
print(" ".join(r[0] for r in rows[1:]))' REJECTS.csv)" "3 6 7 9 10 13" \
    "REJECTS _line values (first cells) are 3 6 7 9 10 13"
is "$(python3 -c '
import csv, sys
rows = list(csv.reader(open(sys.argv[1], newline="", encoding="utf-8")))
print(" ".join(r[1] or "-" for r in rows[1:]))' REJECTS.csv)" \
    "phone email - - email -" "REJECTS _field values"
line3=$(printf '%s\n' "$rows" | sed -n 2p)
is "$line3" "6|3|phone|not a mainland mobile or fixed-line number" \
    "REJECTS row for line 3: reason for the phone"
is "$(python3 -c '
import csv, sys
rows = list(csv.reader(open(sys.argv[1], newline="", encoding="utf-8")))
print([r[3:6] for r in rows[1:] if r[0] in ("10", "13")])' REJECTS.csv)" \
    "[['郑,一', '13800138107', 'bad@@x.cn'], ['陈\\n三', '', '']]" \
    "REJECTS keeps quoted commas and newlines of the bad rows"

# Short rows are padded to the header; the too-long row (line 9) keeps
# its extra cell at the end, after the header's columns.
is "$(printf '%s\n' "$rows" | sed 1d | cut -d'|' -f1 | tr '\n' ' ')" \
    "6 6 6 7 6 6 " "REJECTS rows: padded to the header, long rows kept whole"
is "$(printf '%s\n' "$rows" | sed 1d | cut -d'|' -f2 | tr '\n' ' ')" \
    "3 6 7 9 10 13 " "the _line column (by header) holds 3 6 7 9 10 13"

# --- CRLF input: same line numbers ------------------------------------
"$VIGIL" init v2 >/dev/null 2>&1 || bail "init v2 failed"
sed 's/$/\r/' mixed.csv >mixed-crlf.csv
vg import v2 mixed-crlf.csv --skip-bad rej-crlf.csv
exit_is 0 "CRLF file with --skip-bad: exit 0"
is "$(customers v2)" 4 "CRLF file: 4 good customers"
is "$(python3 -c '
import csv, sys
rows = list(csv.reader(open(sys.argv[1], newline="", encoding="utf-8")))
print(" ".join(r[0] for r in rows[1:]))' rej-crlf.csv)" "3 6 7 9 10 13" \
    "CRLF file: REJECTS line numbers 3 6 7 9 10 13"

# --- all good: a REJECTS file with only the header -----------------------
"$VIGIL" gen-customers --count 20 --seed 8 --out good.csv || bail "gen"
vg import v good.csv --skip-bad none.csv
exit_is 0 "--skip-bad on a good file: exit 0"
like "$OUT" '^imported 20 customers, rejected 0' "reports 20 imported, 0 rejected"
is "$(wc -l <none.csv | tr -d ' ')" 1 "REJECTS.csv holds only the header"
mode_is none.csv -rw------- "header-only REJECTS.csv is 0600"

# --- a pre-existing REJECTS.csv ------------------------------------------
echo "old content" >old.csv
chmod 644 old.csv
vg import v mixed.csv --skip-bad old.csv
exit_is 0 "--skip-bad over an existing file: exit 0"
lacks "$(cat old.csv)" "old content" "the old content is replaced"
mode_is old.csv -rw------- "an existing 0644 REJECTS file ends up 0600"

# --- REJECTS must not clobber the input or the vault ------------------------
"$VIGIL" init v4 >/dev/null 2>&1 || bail "init v4 failed"
"$VIGIL" import v4 good.csv >/dev/null 2>&1 || bail "import v4 failed"
cp mixed.csv same.csv
cp v4/master.key v4.key
vg import v4 same.csv --skip-bad same.csv
isnt "$RC" 0 "--skip-bad naming the input file is refused"
check "and the input file is untouched" cmp -s mixed.csv same.csv
vg import v4 mixed.csv --skip-bad v4/master.key
isnt "$RC" 0 "--skip-bad naming the vault's master.key is refused"
check "and master.key is untouched" cmp -s v4.key v4/master.key
cp v4.key v4/master.key
chmod 600 v4/master.key
vg import v4 mixed.csv --skip-bad v4/vigil.db
isnt "$RC" 0 "--skip-bad naming the vault's vigil.db is refused"
is "$(customers v4)" 20 "and the vault still opens with its 20 customers"

# Nor anything below the vault (the offline K0, the audit segments), nor
# a hard link to another file.
vg import v4 mixed.csv --skip-bad v4/audit-offline/cli.mac0
isnt "$RC" 0 "--skip-bad naming a file under the vault is refused"
check "and the offline MAC key is untouched" grep -q "initial" v4/audit-offline/cli.mac0
echo keep >linked.txt
ln linked.txt hard.csv
vg import v4 mixed.csv --skip-bad hard.csv
isnt "$RC" 0 "--skip-bad naming a file with another hard link is refused"
is "$(cat linked.txt)" "keep" "and the linked file is untouched"

# --- REJECTS must not follow symlinks ----------------------------------------
echo "precious" >target.txt
ln -s target.txt link.csv
vg import v mixed.csv --skip-bad link.csv
exit_is 2 "--skip-bad to a symlink is refused (exit 2)"
is "$(cat target.txt)" "precious" "the symlink target is untouched"
has "$ERR" "link.csv" "the error names the rejects file"

vg import v mixed.csv --skip-bad no/such/dir/rej.csv
exit_is 2 "--skip-bad into a missing dir: exit 2"

# --- a CSV syntax error is not skippable ---------------------------------------
"$VIGIL" init v3 >/dev/null 2>&1 || bail "init v3 failed"
{
	printf 'name,phone\n王芳,13800138201\n李四,1\n'
	printf '赵六,"13800138202\n'
} >broken.csv
vg import v3 broken.csv --skip-bad rej3.csv
exit_is 2 "--skip-bad with an unterminated quote: exit 2"
has "$ERR" "broken.csv:4:" "it names the line of the opening quote"
is "$(customers v3)" 0 "and nothing was imported"

done_testing
