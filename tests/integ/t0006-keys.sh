#!/bin/sh
# vigil keys rotate / rewrap: epochs in stats, lookups across epochs,
# rewrap in small batches, retiring old keys, the live-epoch limit.
. "$(dirname "$0")/lib.sh"

"$VIGIL" init v >/dev/null 2>&1 || bail "init failed"
"$VIGIL" gen-customers --count 60 --seed 7 --out all.csv || bail "gen"
sed -n '1,41p' all.csv >first.csv	# header + 40
sed -n '1p;42,61p' all.csv >second.csv	# header + 20

# epochs DIR: "current|epoch:state:customers ..." from stats --json.
epochs() {
	"$VIGIL" stats "$1" --json 2>/dev/null | json \
	    '"%d|%s" % (d["current_epoch"], " ".join("%d:%s:%d" % (e["epoch"], e["state"], e["customers"]) for e in d["key_epochs"]))'
}
# field N COL: column COL of data row N (1-based) of all.csv.
field() {
	sed -n "$(($1 + 1))p" all.csv | cut -d, -f"$2"
}
# epoch_of PHONE: the key_epoch of the customer with that phone.
epoch_of() {
	"$VIGIL" lookup v --phone "$1" --json 2>/dev/null |
	    json 'd["matches"][0]["key_epoch"]'
}

"$VIGIL" import v first.csv >/dev/null 2>&1 || bail "import first failed"
is "$(epochs v)" "1|1:active:40" "a new vault: epoch 1 active with 40 customers"

# --- rotate ---------------------------------------------------------------
vg keys rotate v
exit_is 0 "keys rotate: exit 0"
like "$OUT" '^key epoch 2 is now current' "rotate says epoch 2 is current"
is "$(epochs v)" "2|1:decrypt:40 2:active:0" \
    "after rotate: epoch 2 active, epoch 1 decrypt-only with 40"
is "$(customers v)" 40 "rotate changes no customer count"

vg lookup v --phone "$(field 1 2)"
exit_is 0 "an epoch-1 customer is found after rotate"
is "$(epoch_of "$(field 1 2)")" 1 "and is still sealed under epoch 1"

vg import v second.csv
exit_is 0 "import after rotate: exit 0"
is "$(epochs v)" "2|1:decrypt:40 2:active:20" \
    "new customers go to epoch 2 (20), old stay in 1 (40)"
is "$(epoch_of "$(field 50 2)")" 2 "a new customer is sealed under epoch 2"
vg lookup v --email "$(field 50 3)"
exit_is 0 "a new customer is found by e-mail"

index_before=$("$VIGIL" stats v --json | json 'd["index_entries"]')

# --- rewrap in batches of 3 -------------------------------------------------
vg keys rewrap v --batch 3
exit_is 0 "keys rewrap --batch 3: exit 0"
like "$OUT" '^re-sealed 40 of 60 customers; retired 1 old key epoch$' \
    "rewrap re-seals the 40 old customers and retires 1 epoch"
is "$ERR" "" "rewrap writes nothing to stderr (not a tty)"
is "$(epochs v)" "2|1:retired:0 2:active:60" \
    "after rewrap: all 60 in epoch 2, epoch 1 retired"
is "$(customers v)" 60 "rewrap keeps 60 customers"
is "$("$VIGIL" stats v --json | json 'd["index_entries"]')" "$index_before" \
    "rewrap keeps the index entries"

bad=""
for n in 1 2 3 17 39 40 41 60; do
	p=$(field $n 2)
	e=$(field $n 3)
	a=$(field $n 4)
	id=$("$VIGIL" lookup v --phone "$p" 2>/dev/null | head -n 1)
	id_e=$("$VIGIL" lookup v --email "$e" 2>/dev/null | head -n 1)
	id_a=$("$VIGIL" lookup v --account-id "$a" 2>/dev/null | head -n 1)
	case $id in cus_*) ;; *) bad="$bad $n:phone" ;; esac
	[ "$id_e" = "$id" ] || bad="$bad $n:email"
	[ "$id_a" = "$id" ] || bad="$bad $n:account_id"
	[ "$(epoch_of "$p")" = 2 ] || bad="$bad $n:epoch"
	"$VIGIL" show v "$id" >/dev/null 2>&1 || bad="$bad $n:show"
done
is "$bad" "" "after rewrap, rows 1..60 are found by phone, e-mail and account id, sealed under epoch 2"

vg keys rewrap v
exit_is 0 "a second rewrap: exit 0"
like "$OUT" '^re-sealed 0 of 60 customers; retired 0 old key epochs$' \
    "a second rewrap has nothing to do"

# --- two rotations, then one rewrap (default batch) ---------------------------
"$VIGIL" keys rotate v >/dev/null 2>&1
"$VIGIL" import v - >/dev/null 2>&1 <<EOF
name,phone
新人,13500135000
EOF
"$VIGIL" keys rotate v >/dev/null 2>&1
is "$(epochs v)" "4|1:retired:0 2:decrypt:60 3:decrypt:1 4:active:0" \
    "two rotations: epochs 2 and 3 decrypt-only, 4 active"
vg lookup v --phone 13500135000
exit_is 0 "the epoch-3 customer is found"
vg keys rewrap v
exit_is 0 "rewrap over two old epochs: exit 0"
like "$OUT" '^re-sealed 61 of 61 customers; retired 2 old key epochs$' \
    "it re-seals 61 and retires 2 epochs"
is "$(epochs v)" "4|1:retired:0 2:retired:0 3:retired:0 4:active:61" \
    "all 61 customers in epoch 4"
vg lookup v --phone "$(field 1 2)"
exit_is 0 "the first customer is still found"

# --- a bad master key cannot rotate --------------------------------------------
cp v/master.key good.key
"$VIGIL" init other >/dev/null 2>&1 || bail "init other"
cp other/master.key v/master.key
vg keys rotate v
exit_is 2 "rotate with the wrong master key: exit 2"
cp good.key v/master.key
is "$(epochs v | cut -d'|' -f1)" 4 "and the epoch did not move"

# --- the live-epoch limit (VG_EPOCHS_MAX = 64) ---------------------------------
"$VIGIL" init lim >/dev/null 2>&1 || bail "init lim"
"$VIGIL" import lim first.csv >/dev/null 2>&1 || bail "import lim"
i=1
while [ $i -lt 64 ]; do
	"$VIGIL" keys rotate lim >/dev/null 2>&1 || break
	i=$((i + 1))
done
is "$i" 64 "63 rotations succeed (64 live epochs)"
vg keys rotate lim
exit_is 2 "a 65th live epoch is refused (exit 2)"
has "$ERR" "vigil keys rewrap" "and the message says to run vigil keys rewrap"
vg keys rewrap lim
exit_is 0 "rewrap then succeeds"
like "$OUT" 'retired 63 old key epochs' "retiring 63 epochs"
vg keys rotate lim
exit_is 0 "after rewrap, rotation works again"
like "$OUT" '^key epoch 65 is now current' "epoch 65 is current"
vg lookup lim --phone "$(field 1 2)"
exit_is 0 "customers are still found after 65 epochs"
cur=$(epochs lim)
like "$cur" ' 65:active:0$' "stats lists the current epoch 65 as active"
like "$cur" ' 64:decrypt:40( |$)' "stats lists epoch 64 with the 40 customers"

done_testing
