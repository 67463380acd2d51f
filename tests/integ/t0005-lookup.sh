#!/bin/sh
# vigil lookup and vigil show: exact lookup through the blind indexes,
# phone normalisation, masked output, misses and malformed values.
. "$(dirname "$0")/lib.sh"

"$VIGIL" init v >/dev/null 2>&1 || bail "init failed"
"$VIGIL" gen-customers --count 200 --seed 6 --out gen.csv || bail "gen"
{
	printf 'name,phone,email,account_id,address,region\n'
	printf '王芳,13800138000,Wang.Fang@163.com,Acct_Wf01,广东省深圳市南山区科技园路18号,CN-GD\n'
	printf '李娜,+86 139-1234-5678,lina@example.cn,lina.acct,北京市海淀区中关村大街1号,CN-BJ\n'
} >mine.csv
"$VIGIL" import v gen.csv >/dev/null 2>&1 || bail "import gen failed"
"$VIGIL" import v mine.csv >/dev/null 2>&1 || bail "import mine failed"

# --- the four phone forms find the same customer --------------------------
vg lookup v --phone 13800138000
exit_is 0 "lookup --phone 13800138000: exit 0"
id=$(printf '%s\n' "$OUT" | head -n 1)
like "$id" '^cus_[a-z2-7]{26}$' "the first output line is a cus_ id"
is "$(printf '%s\n' "$OUT" | grep -c '^cus_')" 1 "exactly one customer matches"
for p in "138 0013 8000" "+86 138-0013-8000" "0086 13800138000" \
    "+8613800138000" "8613800138000" "(138) 0013.8000" \
    "１３８００１３８０００" "138　0013　8000" "138–0013–8000"; do
	vg lookup v --phone "$p"
	exit_is 0 "lookup --phone '$p': exit 0"
	is "$(printf '%s\n' "$OUT" | head -n 1)" "$id" "lookup --phone '$p' finds the same id"
done
vg lookup v --field phone=+86-138-0013-8000
exit_is 0 "lookup --field phone=...: exit 0"
is "$(printf '%s\n' "$OUT" | head -n 1)" "$id" "--field phone= finds the same id"

# Imported in a formatted form, found in a bare one.
vg lookup v --phone 13912345678
exit_is 0 "a phone imported as '+86 139-1234-5678' is found as 13912345678"
id2=$(printf '%s\n' "$OUT" | head -n 1)
isnt "$id2" "$id" "and it is a different customer"

# --- masked text output ---------------------------------------------------
vg lookup v --phone 13800138000
lacks "$OUT" "13800138000" "text output: no full phone"
lacks "$OUT" "王芳" "text output: no full name"
lacks "$OUT" "wang.fang" "text output: no full email"
lacks "$OUT" "acct_wf01" "text output: no full account id"
lacks "$OUT" "科技园路" "text output: no full address"
like "$OUT" '^  phone +\+86 138\*{4}8000$' "text output: phone masked as +86 138****8000"
like "$OUT" '^  name +王\*$' "text output: name masked as 王*"
is "$ERR" "" "a hit writes nothing to stderr"

# --- e-mail and account id ----------------------------------------------------
for e in wang.fang@163.com WANG.FANG@163.COM Wang.Fang@163.com \
    " wang.fang@163.com " "ｗａｎｇ.fang@163.com"; do
	vg lookup v --email "$e"
	is "$RC:$(printf '%s\n' "$OUT" | head -n 1)" "0:$id" "lookup --email '$e' finds the customer"
done
vg lookup v --field email=WANG.fang@163.com
is "$RC:$(printf '%s\n' "$OUT" | head -n 1)" "0:$id" "lookup --field email= finds the customer"
vg lookup v --account-id acct_wf01
is "$RC:$(printf '%s\n' "$OUT" | head -n 1)" "0:$id" "lookup --account-id finds the customer"
vg lookup v --account-id ACCT_WF01
is "$RC:$(printf '%s\n' "$OUT" | head -n 1)" "0:$id" "lookup --account-id is case-insensitive"
vg lookup v --field account_id=Acct_Wf01
is "$RC:$(printf '%s\n' "$OUT" | head -n 1)" "0:$id" "lookup --field account_id= finds the customer"

# Generated customers are found by their own e-mail and account id.
row=$(sed -n 101p gen.csv)
gphone=$(printf '%s\n' "$row" | cut -d, -f2)
gemail=$(printf '%s\n' "$row" | cut -d, -f3)
gacct=$(printf '%s\n' "$row" | cut -d, -f4)
vg lookup v --phone "$gphone"
gid=$(printf '%s\n' "$OUT" | head -n 1)
like "$gid" '^cus_' "generated row 100 is found by phone"
vg lookup v --email "$gemail"
has "$OUT" "$gid" "generated row 100 is found by e-mail"
vg lookup v --account-id "$gacct"
has "$OUT" "$gid" "generated row 100 is found by account id"

# --- JSON --------------------------------------------------------------------
vg lookup v --phone "+86 138-0013-8000" --json
exit_is 0 "lookup --json: exit 0"
is "$(printf '%s' "$OUT" | json 'len(d["matches"])')" 1 "lookup --json parses, one match"
is "$(printf '%s' "$OUT" | json 'd["matches"][0]["id"]')" "$id" "JSON id is the same cus_ id"
is "$(printf '%s' "$OUT" | json 'd["matches"][0]["view"]')" "masked" "JSON view is masked"
is "$(printf '%s' "$OUT" | json 'sorted(d["matches"][0]["fields"])')" \
    "['account_id', 'address', 'email', 'name', 'phone', 'region']" \
    "JSON has all six fields"
is "$(printf '%s' "$OUT" | json 'd["matches"][0]["fields"]["phone"]')" \
    "+86 138****8000" "JSON phone is masked"
is "$(printf '%s' "$OUT" | json 'd["matches"][0]["fields"]["email"]')" \
    "w***@163.com" "JSON email is masked"
lacks "$OUT" "13800138000" "JSON output has no full phone"
lacks "$OUT" "0013" "JSON output has no middle phone digits"
lacks "$OUT" "wang.fang" "JSON output has no full email"
lacks "$OUT" "王芳" "JSON output has no full name"
# and not in \u escapes either
lacks "$(printf '%s' "$OUT" | json 'json.dumps(d)')" "13800138000" \
    "JSON output has no full phone after decoding"

vg lookup v --phone 13700000000 --json
exit_is 2 "lookup --json miss: exit 2"
is "$(printf '%s' "$OUT" | json 'd["matches"]')" "[]" "a JSON miss parses as no matches"

# --- misses and malformed values ------------------------------------------
vg lookup v --phone 13700000000
exit_is 2 "a well-formed phone nobody has: exit 2"
like "$ERR" "^vigil lookup: no customer matches$" "it says no customer matches"
is "$OUT" "" "a miss prints nothing on stdout"
vg lookup v --email nobody@example.cn
exit_is 2 "an e-mail nobody has: exit 2"
has "$ERR" "no customer matches" "it says no customer matches"

for p in 12 12345 "138 0013 800x" "++8613800138000" 013800138000 \
    99999999999999999999; do
	vg lookup v --phone "$p"
	exit_is 2 "malformed phone '$p': exit 2"
	like "$ERR" "^vigil lookup: phone: " "malformed phone '$p': gives the reason"
	lacks "$ERR" "no customer matches" "malformed phone '$p': not reported as a miss"
done
vg lookup v --phone 12345
lacks "$ERR" "12345" "a malformed phone is not echoed"
vg lookup v --email not-an-email
exit_is 2 "malformed e-mail: exit 2"
like "$ERR" "^vigil lookup: email: " "malformed e-mail: gives the reason"
lacks "$ERR" "no customer matches" "malformed e-mail: not reported as a miss"
vg lookup v --account-id "a b"
exit_is 2 "malformed account id: exit 2"
lacks "$ERR" "no customer matches" "malformed account id: not reported as a miss"

vg lookup v --field name=王芳
exit_is 1 "lookup by a field that is not indexed: exit 1"
vg lookup v --field nosuch=1
exit_is 1 "lookup by an unknown field: exit 1"
vg lookup v --phone 13800138000 --account-id acct_wf01
exit_is 1 "two selectors: exit 1"

# --- more matches than one lookup returns (VG_LOOKUP_MAX = 16) -------------
{
	printf 'name,phone\n'
	i=0
	while [ $i -lt 20 ]; do
		printf '重复,13600136000\n'
		i=$((i + 1))
	done
} >dups.csv
"$VIGIL" import v dups.csv >/dev/null 2>&1 || bail "import dups failed"
vg lookup v --phone 13600136000
exit_is 0 "a phone shared by 20 customers: exit 0"
n=$(printf '%s\n' "$OUT" | grep -c '^cus_')
if [ "$n" = 20 ] || printf '%s\n' "$ERR" | grep -Eqi 'more|truncat|first 16'; then
	ok "20 matches: all shown, or stderr says the list was cut ($n shown)"
else
	not_ok "20 matches: all shown, or stderr says the list was cut ($n shown)" \
	    "stderr: $ERR"
fi

# --- show ----------------------------------------------------------------------
vg show v "$id"
exit_is 0 "show cus_...: exit 0"
is "$(printf '%s\n' "$OUT" | head -n 1)" "$id" "show prints the id first"
like "$OUT" '^  phone +\+86 138\*{4}8000$' "show prints the masked phone"
lacks "$OUT" "13800138000" "show has no full phone"
vg show v "$id" --json
exit_is 0 "show --json: exit 0"
is "$(printf '%s' "$OUT" | json 'd["matches"][0]["id"]')" "$id" "show --json parses with the id"
vg show v cus_nope
exit_is 1 "show with a malformed id: exit 1"
like "$ERR" "^vigil show: " "show with a malformed id: says why"
vg show v "$(printf '%s' "$id" | tr 'a-z' 'A-Z')x"
exit_is 1 "show with a too-long id: exit 1"
vg show v cus_aaaaaaaaaaaaaaaaaaaaaaaaaa
exit_is 2 "show with a well-formed unknown id: exit 2"
like "$ERR" "^vigil show: " "unknown id: says why"

# The value from standard input ('-'), out of sight of ps and history.
run sh -c 'printf "138 0013 8000\n" | "$1" lookup "$2" --phone -' sh "$VIGIL" v
exit_is 0 "--phone - reads the value from standard input"
has "$OUT" "cus_" "and finds the customer"
run sh -c 'printf "" | "$1" lookup "$2" --phone -' sh "$VIGIL" v
exit_is 1 "--phone - with nothing on standard input: usage error"

done_testing
