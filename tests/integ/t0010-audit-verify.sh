#!/bin/sh
# vigil audit verify | prove | check-proof on a vault's cli chain: a clean
# log verifies (MACs, own and witness checkpoints, a pinned key), a wrong
# key or a flipped byte fails with exit 2 naming the seq and offset, proofs
# check and tampered proofs do not, and the log holds no personal data.
. "$(dirname "$0")/lib.sh"

mkdir w
VIGIL_WITNESS_DIRS=$T/w
export VIGIL_WITNESS_DIRS

# frame_offset SEGMENT SEQ: the byte offset of entry SEQ's frame.
frame_offset() {
	python3 -c '
import struct, sys
b = open(sys.argv[1], "rb").read()
pos, k, want = 53 + b[52], 0, int(sys.argv[2])
while pos + 10 <= len(b):
    if k == want:
        print(pos)
        break
    pos += 10 + struct.unpack(">I", b[pos + 2:pos + 6])[0] + 64
    k += 1
' "$1" "$2"
}

# flip FILE OFFSET: xor one byte of FILE with 0x01.
flip() {
	python3 -c '
import sys
p, o = sys.argv[1], int(sys.argv[2])
b = bytearray(open(p, "rb").read())
b[o] ^= 1
open(p, "wb").write(bytes(b))
' "$1" "$2"
}

"$VIGIL" gen-customers --count 20 --seed 3 --out c.csv || bail "gen failed"
name=$(sed -n 2p c.csv | cut -d, -f1)
phone=$(sed -n 2p c.csv | cut -d, -f2)
email=$(sed -n 2p c.csv | cut -d, -f3)
miss=19999999999
grep -q "$miss" c.csv && bail "the miss phone is in the data"

vg init v
exit_is 0 "init"
vg import v c.csv
exit_is 0 "import"
vg lookup v --phone "$phone"
exit_is 0 "lookup of a known phone: a hit"
id=$(printf '%s\n' "$OUT" | head -n 1)
vg lookup v --phone "$miss"
exit_is 2 "lookup of an unknown phone: a miss"
vg lookup v --phone "abc"
exit_is 2 "lookup of a malformed phone"
seg=audit/cli/seg-0000000000000000.log
check "the cli chain has a segment" test -s "v/$seg"

# --- a clean log ---------------------------------------------------------
vg audit verify v
exit_is 0 "audit verify of a clean log exits 0"
like "$OUT" "^chain cli: OK: 5 entries" \
    "it counts 5 entries (init, import, 3 lookups)"
has "$OUT" "MACs verified" "and says MACs were verified (K0 found)"
has "$ERR" "keep it offline" "and warns that K0 is on this machine"

vg audit verify v --json
exit_is 0 "audit verify --json exits 0"
q='d[0]["chain"], d[0]["ok"], d[0]["entries"], d[0]["macs_checked"]'
is "$(printf '%s' "$OUT" | json "$q, d[0]['key_pinned']")" \
    "('cli', True, 5, True, False)" \
    "--json: chain, ok, entries, MACs checked, key not pinned"
like "$(printf '%s' "$OUT" | json 'd[0]["root"]')" '^[0-9a-f]{64}$' \
    "--json: the root is 64 hex digits"

cp v/audit-offline/cli.mac0 k0.txt
mv v/audit-offline/cli.mac0 k0.moved
vg audit verify v
exit_is 0 "without K0 on the machine verify still passes"
has "$OUT" "MACs not checked" "but says MACs were not checked"
vg audit verify v --mac-key k0.txt
exit_is 0 "--mac-key FILE"
has "$OUT" "MACs verified" "checks MACs with the offline K0"
mv k0.moved v/audit-offline/cli.mac0

vg audit verify v --key v/audit/cli/key.pub
exit_is 0 "--key key.pub (a file) pins the key"
vg audit verify v --key "$(cat v/audit/cli/key.pub)" --json
exit_is 0 "--key with the key itself"
is "$(printf '%s' "$OUT" | json 'd[0]["ok"], d[0]["key_pinned"]')" "(True, True)" \
    "--json says the key was pinned"

env -u VIGIL_WITNESS_DIRS "$VIGIL" init other >/dev/null 2>&1 ||
    bail "init other failed"
vg audit verify v --key other/audit/cli/key.pub
exit_is 2 "another vault's key: exit 2"
like "$OUT" "FAILED: bad signature" "and says bad signature"
vg audit verify v --key "not-a-key"
exit_is 1 "a --key that is neither a key nor a file: usage error"

# Witness files are named <origin with / as _>-<size hex>.cp.
n_w=$(ls w | grep -c '^vigil\.local_[0-9a-f]*_cli-[0-9a-f]\{16\}\.cp$')
[ "$n_w" -ge 5 ] && ok "the witness dir received $n_w checkpoints" ||
    not_ok "the witness dir received checkpoints" "$(ls -l w)"
vg audit verify v --witness w --json
exit_is 0 "--witness DIR passes"
is "$(printf '%s' "$OUT" | json 'd[0]["ok"], d[0]["witness_checkpoints"] >= 5')" \
    "(True, True)" "and checked the witness checkpoints"
vg audit verify v --witness "w/$(ls w | grep '_cli-' | head -n 1)"
exit_is 0 "--witness FILE passes"

# --- proofs ------------------------------------------------------------------
vg audit prove v --seq 2 --out p.json
exit_is 0 "prove --seq 2"
is "$(json 'd["format"], d["seq"], d["tree_size"]' <p.json)" \
    "('vigil-audit-proof-1', 2, 5)" "the proof names its format, seq and tree size"
vg audit check-proof p.json --key v/audit/cli/key.pub
exit_is 0 "check-proof with key.pub exits 0"
like "$OUT" "^proof OK: entry 2 is in the tree of 5 entries" "and says proof OK"
has "$OUT" "action lookup, decision allow" "and shows the entry"
has "$OUT" "customer $id" "naming the customer by id"
vg audit check-proof p.json --key other/audit/cli/key.pub
exit_is 2 "check-proof under another key: exit 2"
has "$ERR" "does NOT hold" "and says the proof does not hold"

python3 -c '
import base64, json, sys
d = json.load(open("p.json"))
b = bytearray(base64.b64decode(d["entry"]))
b[-1] ^= 1
d["entry"] = base64.b64encode(bytes(b)).decode()
json.dump(d, open("p-entry.json", "w"))
d = json.load(open("p.json"))
h = d["path"][0]
d["path"][0] = ("1" if h[0] != "1" else "2") + h[1:]
json.dump(d, open("p-path.json", "w"))
d = json.load(open("p.json"))
d["seq"] = 3
json.dump(d, open("p-seq.json", "w"))
d = json.load(open("p.json"))
d["checkpoint"] = d["checkpoint"].replace("\n5\n", "\n6\n", 1)
d["tree_size"] = 6
json.dump(d, open("p-size.json", "w"))
' || bail "cannot write tampered proofs"
for t in entry path seq size; do
	vg audit check-proof "p-$t.json" --key v/audit/cli/key.pub
	exit_is 2 "a proof with its $t tampered: exit 2"
	has "$ERR" "does NOT hold" "and it does not hold ($t)"
done
echo '{"format": "x"}' >p-bad.json
vg audit check-proof p-bad.json --key v/audit/cli/key.pub
exit_is 2 "a JSON file that is not a proof: exit 2"
vg audit prove v --seq 5
exit_is 2 "prove of a seq beyond the log: exit 2"

# --- no personal data in the log ------------------------------------------
lacks_bytes() {	# lacks_bytes WHAT STRING: STRING is in no segment
	if grep -rqaF -- "$2" v/audit; then
		not_ok "the audit log does not contain the $1"
	else
		ok "the audit log does not contain the $1"
	fi
}
lacks_bytes "looked-up phone" "$phone"
lacks_bytes "missed phone" "$miss"
lacks_bytes "customer's name" "$name"
lacks_bytes "customer's email" "$email"
lacks_bytes "last 8 digits of the phone" "$(printf '%s' "$phone" | tail -c 8)"
has "$(cat "v/$seg")" "lookup" "(while it does hold the lookup entries)"

# --- tampering -------------------------------------------------------------
cp -R v vt
off=$(frame_offset "vt/$seg" 2)
[ -n "$off" ] || bail "cannot find entry 2"
flip "vt/$seg" $((off + 10 + 20))
vg audit verify vt
exit_is 2 "a byte flipped in entry 2: verify exits 2"
like "$OUT" \
    "FAILED: modified at seq 2 \\(seg-0{16}\\.log, byte offset $off\\)" \
    "and names modified, seq 2 and its byte offset $off"
vg audit verify vt --json
exit_is 2 "--json too"
is "$(printf '%s' "$OUT" |
    json 'd[0]["ok"], d[0]["problem"], d[0]["seq"], d[0]["offset"]')" \
    "(False, 'modified', 2, $off)" "--json names the problem, seq and offset"
vg lookup vt --phone "$phone"
exit_is 2 "with a damaged log a lookup fails closed"
has "$ERR" "audit" "and says the audit log is the reason"
lacks "$OUT" "$id" "and shows no customer"

rm -rf vt
cp -R v vt
off=$(frame_offset "vt/$seg" 3)
flip "vt/$seg" "$off"
vg audit verify vt
exit_is 2 "entry 3's frame marker flipped: exit 2"
like "$OUT" "FAILED: modified at seq 3 .*byte offset $off" "names seq 3 and offset $off"

rm -rf vt
cp -R v vt
python3 -c '
import sys
p, o = sys.argv[1], int(sys.argv[2])
b = open(p, "rb").read()
open(p, "wb").write(b[:o])
' "vt/$seg" "$(frame_offset "vt/$seg" 3)"
vg audit verify vt
exit_is 2 "the log cut before entry 3: exit 2"
like "$OUT" "FAILED: truncated at seq 3" "and says truncated at seq 3"
vg audit verify vt --witness w
exit_is 2 "and with the witness too"

# --- a witness dir shared by two vaults ----------------------------------
# Files are named by origin, so both keep their checkpoints.  Only a pinned
# key tells another vault's checkpoint from this log re-signed under
# another name (t0013), so a shared witness needs --key.
mkdir w2
VIGIL_WITNESS_DIRS=$T/w2 "$VIGIL" init s1 >/dev/null 2>&1 || bail "init s1"
VIGIL_WITNESS_DIRS=$T/w2 "$VIGIL" init s2 >/dev/null 2>&1 || bail "init s2"
is "$(ls w2 | grep -c '_cli-0000000000000001\.cp$')" 2 \
    "two vaults sharing a witness dir keep a checkpoint each"
vg audit verify s1 --witness w2 --key s1/audit/cli/key.pub --json
exit_is 0 "with its key pinned a vault verifies against a shared witness dir"
is "$(printf '%s' "$OUT" | json 'd[0]["ok"], d[0]["witness_checkpoints"]')" \
    "(True, 1)" "checking its own witness checkpoint only"
vg audit verify s2 --witness w2 --key s2/audit/cli/key.pub
exit_is 0 "and so does the other vault"
vg audit verify s1 --witness w2
exit_is 0 "without --key too: other origins' checkpoints are skipped"
# A witness holding only the other vault's checkpoints has nothing for s1.
mkdir w3
cp w2/*"$(sed -n 1p s2/audit/cli/checkpoint | tr / _)"* w3/
vg audit verify s1 --witness w3
exit_is 2 "a witness with no checkpoint of this log is flagged"
like "$OUT" "inconsistent with witness.*hold no checkpoint of this log" \
    "and the message says so"

done_testing
