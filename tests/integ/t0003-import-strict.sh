#!/bin/sh
# vigil import, strict mode: the first bad row stops the import with
# file:line, field and reason, never the value, and nothing is imported.
. "$(dirname "$0")/lib.sh"

"$VIGIL" init v >/dev/null 2>&1 || bail "init failed"
"$VIGIL" gen-customers --count 100 --seed 3 --out good.csv ||
    bail "gen failed"

# replace_line FILE N TEXT: FILE with line N replaced by TEXT, on stdout.
replace_line() {
	awk -v n="$2" -v t="$3" 'NR == n { print t; next } { print }' "$1"
}

# strict_fails DESC FILE LINE [FIELD]: import FILE into v must fail with
# status 2 naming FILE:LINE (and FIELD), and leave the count unchanged.
strict_fails() {
	_before=$(customers v)
	vg import v "$2"
	exit_is 2 "$1: exit 2"
	if [ -n "$3" ]; then
		has "$ERR" "vigil import: $2:$3:" "$1: stderr names $2:$3"
	else
		has "$ERR" "vigil import: $2: " "$1: stderr names $2"
	fi
	if [ $# -ge 4 ]; then
		has "$ERR" "field '$4'" "$1: stderr names field '$4'"
	fi
	is "$OUT" "" "$1: nothing on stdout"
	is "$(customers v)" "$_before" "$1: customer count unchanged ($_before)"
}

# --- a good file ------------------------------------------------------------
vg import v good.csv
exit_is 0 "good file imports (exit 0)"
like "$OUT" '^imported 100 customers' "it reports 100 customers"
is "$(customers v)" 100 "stats shows 100 customers"

# --- a bad phone on line 57 ---------------------------------------------------
BADPHONE=13800138000999
replace_line good.csv 57 "欧阳娜娜,$BADPHONE,nana.ouyang@163.com,nana_oy,江西省南昌市东湖区八一大道1号,CN-JX" >bad57.csv
strict_fails "bad phone on line 57" bad57.csv 57 phone
lacks "$ERR" "$BADPHONE" "bad phone: stderr does not contain the bad value"
lacks "$ERR" "13800138" "bad phone: stderr does not contain part of it"
lacks "$ERR" "欧阳" "bad phone: stderr does not contain the row's name"
lacks "$ERR" "nana" "bad phone: stderr does not contain the row's email"
has "$ERR" "nothing was imported" "bad phone: stderr says nothing was imported"

"$VIGIL" init fresh >/dev/null 2>&1 || bail "init fresh failed"
vg import fresh bad57.csv
exit_is 2 "bad line 57 into an empty vault: exit 2"
is "$(customers fresh)" 0 "the empty vault still has 0 customers"
first_phone=$(sed -n 2p good.csv | cut -d, -f2)
vg lookup fresh --phone "$first_phone"
exit_is 2 "line 2 of the failed file was not imported (lookup misses)"

# A bad e-mail: the reason is given without the value.
replace_line good.csv 30 "李雷,13912345678,li.SECRETLEI@@example.com,lilei01,北京市,CN-BJ" >bademail.csv
strict_fails "bad email on line 30" bademail.csv 30 email
lacks "$ERR" "SECRETLEI" "bad email: stderr does not contain the value"

# The first bad row is reported, not a later one.
replace_line bad57.csv 20 "韩梅梅,12,hmm@126.com,hmm01,北京市,CN-BJ" >twobad.csv
strict_fails "two bad rows" twobad.csv 20 phone

# A bad row after the first 4096-row batch was handed to the writer:
# the whole import must still roll back.
"$VIGIL" gen-customers --count 6000 --seed 4 --out big.csv || bail "gen big"
replace_line big.csv 5001 "王大,13800138000,not-an-email,wd01,北京市,CN-BJ" >big5001.csv
strict_fails "bad row at line 5001 of 6001" big5001.csv 5001 email
vg lookup v --phone "$(sed -n 2p big.csv | cut -d, -f2)"
exit_is 2 "no row of the rolled-back batch is findable"

# --- CSV-level errors -------------------------------------------------------
printf 'name,phone\n王芳,13800138001\n李四,13800138002\n\377\376bad,13800138003\n' >utf8.csv
strict_fails "invalid UTF-8 on line 4" utf8.csv 4
has "$ERR" "invalid UTF-8" "invalid UTF-8: reason given"

printf 'name,phone\n王芳,13800138001\n\300\257,13800138003\n' >overlong.csv
strict_fails "overlong UTF-8 on line 3" overlong.csv 3
has "$ERR" "invalid UTF-8" "overlong UTF-8: reason given"

printf 'name,phone\n王芳,13800138001\n李四,13800138002,EXTRAVALUE\n' >many.csv
strict_fails "too many fields on line 3" many.csv 3
has "$ERR" "record has 3 fields, header has 2" "too many fields: reason given"
lacks "$ERR" "EXTRAVALUE" "too many fields: the extra value is not echoed"

printf 'name,phone,email\n王芳,13800138001,a@b.cn\n李四,13800138002\n' >few.csv
strict_fails "too few fields on line 3" few.csv 3
has "$ERR" "record has 2 fields, header has 3" "too few fields: reason given"

printf 'name,phone\n王芳,13800138001\n"李四,13800138002\n' >unterm.csv
strict_fails "unterminated quote on line 3" unterm.csv 3
has "$ERR" "unterminated quoted field" "unterminated quote: reason given"

# --- header errors ----------------------------------------------------------
printf 'name,phone,SecretColumnXYZ\n王芳,13800138001,x\n' >unknown.csv
strict_fails "unknown header column" unknown.csv 1
has "$ERR" "column 3" "unknown header: names column 3"
lacks "$ERR" "SecretColumnXYZ" "unknown header: the header text is not echoed"

# A file without a header: its first customer must not leak into stderr.
printf '张三丰,13811112222,zsf@wudang.cn\n' >noheader.csv
strict_fails "headerless file" noheader.csv 1
lacks "$ERR" "张三丰" "headerless file: the name is not echoed"
lacks "$ERR" "13811112222" "headerless file: the phone is not echoed"
lacks "$ERR" "wudang" "headerless file: the email is not echoed"

printf 'name,phone,Phone\n王芳,13800138001,13800138002\n' >dup.csv
strict_fails "duplicate header column" dup.csv 1
has "$ERR" "appears twice" "duplicate header: reason given"
has "$ERR" "column 3" "duplicate header: names column 3"

printf ' NAME ,Phone,EMAIL\n王芳,13800138011,Wf@Example.cn\n' >hcase.csv
vg import v hcase.csv
exit_is 0 "header names match case-insensitively, spaces trimmed"
vg lookup v --email wf@example.cn
exit_is 0 "the customer of that file is found"

# --- line ends, BOM, quoting ------------------------------------------------
printf 'name,phone,email\r\n王芳,13800138021,crlf1@example.cn\r\n李四,13800138022,crlf2@example.cn\r\n' >crlf.csv
vg import v crlf.csv
exit_is 0 "CRLF file imports"
like "$OUT" '^imported 2 customers' "CRLF file: 2 customers"
vg lookup v --email crlf2@example.cn
exit_is 0 "CRLF file: last-column value found without a trailing CR"
vg lookup v --phone 13800138022
exit_is 0 "CRLF file: phone of the last row found"

printf 'name,phone\r\n王芳,13800138023\r\n李四,x\r\n' >crlf-bad.csv
strict_fails "CRLF file with a bad row on line 3" crlf-bad.csv 3 phone

printf '\357\273\277name,phone\n赵敏,13800138031\n' >bom.csv
vg import v bom.csv
exit_is 0 "file with a UTF-8 BOM imports"
like "$OUT" '^imported 1 customers' "BOM file: 1 customer"
vg lookup v --phone 13800138031 --json
is "$(printf '%s' "$OUT" | json 'd["matches"][0]["fields"].get("name")')" "赵*" \
    "BOM file: the first column is read as name"

printf '\357\273\277name,phone\r\n周芷若,13800138032\r\n' >bomcrlf.csv
vg import v bomcrlf.csv
exit_is 0 "BOM + CRLF file imports"

# Quoted fields with commas, quotes and newlines; then a bad row whose
# physical line number must count the newlines inside quotes.
{
	printf 'name,phone,address\n'
	printf '"王,芳",13800138041,"广东省\n深圳市南山区科技园路18号"\n'
	printf '李四,13800138042,"广东,深圳市南山区科技园路""8""号"\n'
	printf '"赵\n六",13800138043,"a\n\nb"\n'
} >quoted.csv
vg import v quoted.csv
exit_is 0 "quoted fields with commas, quotes and newlines import"
like "$OUT" '^imported 3 customers' "quoted file: 3 customers"
vg lookup v --phone 13800138042 --json
is "$(printf '%s' "$OUT" | json 'd["matches"][0]["fields"]["address"]')" \
    "广东,深圳市****" "quoted comma kept inside the address"
vg lookup v --phone 13800138041 --json
is "$(printf '%s' "$OUT" | json 'd["matches"][0]["fields"]["address"]')" \
    "广东省 深圳****" "quoted newline kept as one field (folded to a space)"
is "$(printf '%s' "$OUT" | json 'd["matches"][0]["fields"]["name"]')" \
    "王*芳" "quoted name with a comma is one field"
{
	cat quoted.csv
	printf '钱七,13800138044,北京市\n'
	printf '孙八,99,北京市\n'
} >quoted-bad.csv
# header 1, records at lines 2-3, 4, 5-8 (three LFs inside quotes), 9;
# the bad one is on line 10.
strict_fails "bad row after quoted newlines" quoted-bad.csv 10 phone

printf 'name,phone\n王芳,13800138051\n\n\n李四,1\n' >blank.csv
strict_fails "blank lines still count for line numbers" blank.csv 5 phone

# --- empty and header-only files -------------------------------------------
: >empty.csv
strict_fails "empty file" empty.csv ""
has "$ERR" "empty file" "empty file: reason given"

printf 'name,phone,email\n' >header-only.csv
vg import v header-only.csv
exit_is 0 "header-only file: exit 0"
like "$OUT" '^imported 0 customers' "header-only file: imports 0"
printf 'name,phone,email' >header-only-nonl.csv
vg import v header-only-nonl.csv
exit_is 0 "header-only file without a newline: exit 0"
like "$OUT" '^imported 0 customers' "header-only file without a newline: imports 0"

# --- limits ------------------------------------------------------------------
long=$(awk 'BEGIN { while (n++ < 4097) printf "x" }')
printf 'name,phone,address\n王芳,13800138061,北京市\n李四,13800138062,%s\n' "$long" >long.csv
strict_fails "field of 4097 bytes" long.csv 3
has "$ERR" "too long" "long field: reason says too long"
lacks "$ERR" "xxxxxxxx" "long field: the value is not echoed"

long=$(awk 'BEGIN { while (n++ < 4096) printf "x" }')
printf 'name,phone,address\n李四,13800138062,%s\n' "$long" >long4096.csv
strict_fails "address of 4096 bytes (over the address limit)" long4096.csv 2 address

long=$(awk 'BEGIN { while (n++ < 129) printf "y" }')
printf 'name,phone\n%s,13800138063\n' "$long" >longname.csv
strict_fails "name of 129 bytes" longname.csv 2 name
lacks "$ERR" "yyyyyyyy" "long name: the value is not echoed"

printf 'name,phone\n,\n' >novalue.csv
strict_fails "row without any indexed field" novalue.csv 2

# --- standard input ------------------------------------------------------------
before=$(customers v)
run "$VIGIL" import v - <good.csv
exit_is 0 "import from stdin ('-'): exit 0"
like "$OUT" '^imported 100 customers' "stdin import: 100 customers"
is "$(customers v)" $((before + 100)) "stdin import: count grew by 100"

before=$(customers v)
run "$VIGIL" import v - <bad57.csv
exit_is 2 "bad stdin import: exit 2"
has "$ERR" "<stdin>:57:" "bad stdin import: names <stdin>:57"
is "$(customers v)" "$before" "bad stdin import: count unchanged"

done_testing
