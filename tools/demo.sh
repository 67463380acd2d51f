#!/bin/sh
# The demo `make demo` runs: what vigil can do today, end to end on the
# embedded store.  First a short tour of a small vault under build/demo
# (lookups, pseudonyms, key rotation, the audit log, the broker); then the
# simulated week (vigil demo): 200,000 customers, honeytokens, vigild, a
# ring of 20 vendor insiders among about 1,000 staff, the detector and its
# containment, the audit log verified, reports/demo.html.
set -eu

ROOT=$(cd "$(dirname "$0")/.." && pwd)
PATH=$ROOT/bin:$PATH
VIGIL=vigil
DEMO=$ROOT/build/demo
N=${DEMO_TOUR_CUSTOMERS:-20000}

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
run() {
	printf '$'
	for a in "$@"; do
		case $a in
		*' '*) printf " '%s'" "$a" ;;
		*) printf ' %s' "$a" ;;
		esac
	done
	echo
	"$@"
}

rm -rf "$DEMO"
mkdir -p "$DEMO"
cd "$DEMO"

step "1. Generate $N synthetic customers (deterministic; no real person)"
run "$VIGIL" gen-customers --count "$N" --seed 2026 --out customers.csv
head -n 4 customers.csv

step "2. Create a vault: SQLite in WAL mode, master key in a 0600 file"
run "$VIGIL" init vault
ls -l vault

step "3. Import: every personal field sealed on its own, phones normalised"
run "$VIGIL" import vault customers.csv

step "4. What a database reader sees: ciphertext, digests, a coarse region"
sqlite3 vault/vigil.db \
    "SELECT hex(substr(id,1,8)) || '…', region, epoch, length(fields) \
     || ' sealed bytes' FROM customers LIMIT 3"
phone=$(sed -n 2p customers.csv | cut -d, -f2)
digits=$(printf '%s' "$phone" | tr -cd '0-9' | sed 's/^86//')
if grep -rqaF "$digits" vault; then
	echo "!! a phone number was found in the vault files" >&2
	exit 1
fi
echo "searched every vault file for customer 1's phone number: not found"

step "5. Exact lookup: one number, four spellings, one customer"
national=$(printf '%s' "$digits" | cut -c1-11)
a=$(printf '%s' "$national" | sed 's/^\(...\)\(....\)\(....\)$/\1 \2 \3/')
b=$(printf '%s' "$national" | sed 's/^\(...\)\(....\)\(....\)$/+86 \1-\2-\3/')
for p in "$national" "$a" "$b" "0086 $national"; do
	printf '%-20s -> ' "$p"
	"$VIGIL" lookup vault --phone "$p" --json |
	    sed -n 's/.*"id": "\(cus_[a-z2-7]*\)".*/\1/p'
done
run "$VIGIL" lookup vault --phone "$a"

step "6. A malformed number is an error, a well-formed unknown one a miss"
run "$VIGIL" lookup vault --phone "138-0013-80" || true
run "$VIGIL" lookup vault --phone "13900000000" || true

step "7. Consumer-scoped pseudonyms: stable, unlinkable, resolvable only here"
id=$("$VIGIL" lookup vault --phone "$national" --json |
    sed -n 's/.*"id": "\(cus_[a-z2-7]*\)".*/\1/p' | head -n 1)
m=$("$VIGIL" pseudonym vault --consumer marketing "$id")
r=$("$VIGIL" pseudonym vault --consumer repairs "$id")
echo "marketing sees $m"
echo "repairs   sees $r"
run "$VIGIL" pseudonym vault --consumer marketing --resolve "$m"
run "$VIGIL" pseudonym vault --consumer repairs --resolve "$m" || true

step "8. Key rotation and rewrap while the vault stays usable"
run "$VIGIL" keys rotate vault
run "$VIGIL" keys rewrap vault
run "$VIGIL" stats vault
run "$VIGIL" lookup vault --phone "$national"

step "9. The audit log: every access above, durable before any output"
run "$VIGIL" audit tail vault -n 3
run "$VIGIL" audit who-viewed vault "$id"
run "$VIGIL" audit verify vault --key vault/audit/cli/key.pub \
    --mac-key vault/audit-offline/cli.mac0
seq=$("$VIGIL" audit query vault --customer "$id" --action lookup --limit 1 |
    sed -n 's/.*"event.sequence": *\([0-9]*\).*/\1/p' | head -n 1)
run "$VIGIL" audit prove vault --seq "${seq:-3}" --out proof.json
run "$VIGIL" audit check-proof proof.json --key vault/audit/cli/key.pub

step "10. An insider edits the log: verify names the entry"
cp -r vault tampered
seg=$(ls tampered/audit/cli/seg-*.log | head -n 1)
python3 - "$seg" <<'PY'
import sys
p = sys.argv[1]
b = bytearray(open(p, "rb").read())
b[len(b) // 2] ^= 1
open(p, "wb").write(b)
PY
run "$VIGIL" audit verify tampered --key vault/audit/cli/key.pub || true

step "11. The access broker: a clear value needs a purpose and a case"
cp "$ROOT/etc/policy.yaml" vault/policy.yaml
run "$VIGIL" policy check vault/policy.yaml --dir vault
akey=$("$VIGIL" principal add vault --id a.li --org callco --kind vendor \
    --role agent 2>/dev/null | head -n 1)
tkey=$("$VIGIL" principal add vault --id tickets --org acme --kind system \
    --role ticketing 2>/dev/null | head -n 1)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
vigild --dir vault --listen "127.0.0.1:$port" --log vigild.log &
dpid=$!
trap 'kill "$dpid" 2>/dev/null || :' EXIT
n=0
until curl -sf "http://127.0.0.1:$port/healthz" >/dev/null 2>&1; do
	n=$((n + 1)); [ $n -gt 100 ] && { echo "vigild did not start" >&2; exit 1; }
	sleep 0.1
done
api() {	# api KEY METHOD PATH [BODY]
	printf '$ curl -X %s %s %s\n' "$2" "$3" "${4:-}"
	curl -s -X "$2" "http://127.0.0.1:$port$3" \
	    -H "Authorization: Bearer $1" -H 'Content-Type: application/json' \
	    ${4:+-d "$4"}
	echo
}
api "$akey" POST /v1/lookup "{\"phone\":\"$national\"}"
api "$akey" POST "/v1/customers/$id/reveal" '{"fields":["phone"],"purpose":"support"}'
case_id=$(curl -s -X POST "http://127.0.0.1:$port/v1/cases" \
    -H "Authorization: Bearer $tkey" -H 'Content-Type: application/json' \
    -d "{\"customer_id\":\"$id\",\"assignee\":\"a.li\",\"channel\":\"phone\"}" |
    sed -n 's/.*"id":"\(case_[a-z2-7]*\)".*/\1/p')
echo "the ticketing system opened $case_id for a.li"
api "$akey" POST "/v1/customers/$id/reveal" \
    "{\"fields\":[\"phone\"],\"purpose\":\"support\",\"case_id\":\"$case_id\"}"
api "$akey" POST "/v1/customers/$id/reveal" \
    "{\"fields\":[\"address\"],\"purpose\":\"support\",\"case_id\":\"$case_id\"}"
run "$VIGIL" policy explain vault --principal a.li --customer "$id" \
    --fields address --case "$case_id"
kill -TERM "$dpid"
wait "$dpid" || :
trap - EXIT
run "$VIGIL" audit query vault --chain vigild --action reveal --limit 3

step "12. A simulated week: 1,000 staff, 20 insiders, the detector at work"
echo "(vigil demo: the world's customers, honeytokens and principals in a new"
echo " vault; vigild in simulation mode; progress and alerts as they fire)"
mkdir -p "$ROOT/reports"
"$VIGIL" demo "$DEMO/week" --policy "$ROOT/etc/sim-policy.yaml" \
    --customers "${DEMO_CUSTOMERS:-200000}" --report "$ROOT/reports/demo.html"

step "Done"
echo "The tour's vault is in $DEMO/vault, the week's in $DEMO/week; the"
echo "report is reports/demo.html; the trace of the ring's loot, with its"
echo "evidence, is $DEMO/week/trace.html."

