#!/bin/sh
# vigil pseudonym: stable per consumer, unlinkable across consumers,
# resolvable only by the vault for the same consumer.
. "$(dirname "$0")/lib.sh"

"$VIGIL" init v >/dev/null 2>&1 || bail "init failed"
"$VIGIL" gen-customers --count 10 --seed 12 --out c.csv || bail "gen"
"$VIGIL" import v c.csv >/dev/null 2>&1 || bail "import failed"
id1=$("$VIGIL" lookup v --phone "$(sed -n 2p c.csv | cut -d, -f2)" | head -n 1)
id2=$("$VIGIL" lookup v --phone "$(sed -n 3p c.csv | cut -d, -f2)" | head -n 1)
case $id1$id2 in cus_*cus_*) ;; *) bail "cannot find the test customers" ;; esac

vg pseudonym v --consumer crm "$id1"
exit_is 0 "pseudonym: exit 0"
p1=$OUT
like "$p1" '^psn_[a-z2-7]+$' "it prints one psn_ value"
is "$ERR" "" "nothing on stderr"
lacks "$p1" "${id1#cus_}" "the pseudonym does not contain the customer id"

vg pseudonym v --consumer crm "$id1"
is "$OUT" "$p1" "the same consumer gets the same pseudonym again"
vg pseudonym v --consumer ads "$id1"
exit_is 0 "another consumer: exit 0"
p1ads=$OUT
like "$p1ads" '^psn_' "another consumer gets a psn_ value"
isnt "$p1ads" "$p1" "another consumer gets a different pseudonym"
vg pseudonym v --consumer crm "$id2"
p2=$OUT
isnt "$p2" "$p1" "another customer gets a different pseudonym"

vg pseudonym v --consumer crm "$id1" "$id2"
exit_is 0 "two ids at once: exit 0"
is "$OUT" "$p1
$p2" "two ids give their two pseudonyms in order"

# --- resolve -----------------------------------------------------------------
vg pseudonym v --consumer crm --resolve "$p1"
exit_is 0 "--resolve: exit 0"
is "$OUT" "$id1" "--resolve gives back the customer id"
vg pseudonym v --consumer ads --resolve "$p1ads"
is "$RC:$OUT" "0:$id1" "the other consumer resolves its own pseudonym"

vg pseudonym v --consumer ads --resolve "$p1"
exit_is 2 "resolving with another consumer: exit 2"
is "$OUT" "" "and prints no id"
lacks "$ERR" "$id1" "and does not leak the id on stderr"
has "$ERR" "not a pseudonym this vault made" "and says why"

# A pseudonym of another vault does not resolve here.
"$VIGIL" init w >/dev/null 2>&1 || bail "init w"
"$VIGIL" import w c.csv >/dev/null 2>&1 || bail "import w"
wid=$("$VIGIL" lookup w --phone "$(sed -n 2p c.csv | cut -d, -f2)" | head -n 1)
wp=$("$VIGIL" pseudonym w --consumer crm "$wid")
isnt "$wp" "$p1" "another vault gives the same person another pseudonym"
vg pseudonym v --consumer crm --resolve "$wp"
exit_is 2 "another vault's pseudonym does not resolve (exit 2)"

# A tampered pseudonym does not resolve (flip one middle character).
mid=$(printf '%s' "$p1" | cut -c10)
case $mid in a) new=b ;; *) new=a ;; esac
tampered=$(printf '%s' "$p1" | sed "s/^\(.........\)./\1$new/")
isnt "$tampered" "$p1" "(a tampered pseudonym was made)"
vg pseudonym v --consumer crm --resolve "$tampered"
exit_is 2 "a tampered pseudonym does not resolve (exit 2)"

# --- unknown ids, bad names ----------------------------------------------------
vg pseudonym v --consumer crm cus_aaaaaaaaaaaaaaaaaaaaaaaaaa
exit_is 2 "pseudonym of an unknown customer id: exit 2"
like "$ERR" "^vigil pseudonym: no customer" "says there is no such customer"
is "$OUT" "" "and prints nothing"
vg pseudonym v --consumer crm "$wid"
exit_is 2 "pseudonym of another vault's customer id: exit 2"

vg pseudonym v --consumer crm cus_nope
exit_is 1 "a malformed customer id: exit 1"
vg pseudonym v --consumer crm --resolve psn_nope
exit_is 1 "a malformed pseudonym: exit 1"

for name in CRM "" -crm "crm app" "crm/x" \
    "a1234567890123456789012345678901234567890123456789012345678901234"; do
	vg pseudonym v --consumer "$name" "$id1"
	exit_is 1 "consumer name '$name': exit 1"
	is "$OUT" "" "consumer name '$name': no pseudonym printed"
done
vg pseudonym v --consumer "CRM" --resolve "$p1"
exit_is 1 "a bad consumer name with --resolve: exit 1"
has "$ERR" "[a-z0-9][a-z0-9_.-]{0,63}" "and the message gives the rule"

for name in 0 crm.v2 a_b-c.d \
    "a123456789012345678901234567890123456789012345678901234567890123"; do
	vg pseudonym v --consumer "$name" "$id1"
	exit_is 0 "consumer name '$name' is valid"
done

# --- stable across key rotation ------------------------------------------------
"$VIGIL" keys rotate v >/dev/null 2>&1 || bail "rotate"
"$VIGIL" keys rewrap v >/dev/null 2>&1 || bail "rewrap"
vg pseudonym v --consumer crm "$id1"
is "$OUT" "$p1" "the pseudonym is unchanged after rotate + rewrap"
vg pseudonym v --consumer crm --resolve "$p1"
is "$RC:$OUT" "0:$id1" "an old pseudonym still resolves after rotate + rewrap"

done_testing
