#!/bin/sh
# vigil detect replay from the command line: options, errors and a
# damaged log.  (Alerts themselves, and replay against vigild's own
# alerts byte for byte, are tested in t0021-detect and t_detect.)
. "$(dirname "$0")/lib.sh"

vg init v
vg gen-customers --count 20 --seed 3 --out c.csv
vg import --quiet v c.csv

vg detect replay v
exit_is 0 "replay of a vault with no vigild chain: exit 0"
is "$OUT" "" "no alerts"
has "$ERR" "0 entries, 0 alerts" "the summary counts nothing (the cli chain is not detector input)"
vg detect replay v --json
exit_is 0 "--json: exit 0"
vg detect replay v --from 2026-01-01 --to 2026-01-02
exit_is 0 "a time range: exit 0"
vg detect replay v --from yesterday
exit_is 1 "a bad --from: exit 1"
has "$ERR" "--from: not a time" "it says which option"
vg detect replay v --from 2026-02-01 --to 2026-01-01
exit_is 1 "--from after --to: exit 1"
has "$ERR" "--from must be before --to" "it says so"
vg detect replay v --containment medium=none,high=step_up,critical=suspend
exit_is 0 "--containment with all three levels: exit 0"
vg detect replay v --containment high=jail
exit_is 1 "--containment with an unknown action: exit 1"
has "$ERR" "--containment: expected" "it says what is expected"
vg detect replay v --containment low=none
exit_is 1 "--containment with an unknown level: exit 1"
vg detect replay
exit_is 1 "no directory: exit 1"
vg detect replay nosuch
exit_is 2 "a directory that is no vault: exit 2"
vg detect frobnicate v
exit_is 1 "an unknown subcommand: exit 1"
has "$ERR" "unknown subcommand frobnicate" "it is named"
vg help detect
has "$OUT" "vigil detect replay DIR" "help detect shows the usage"

# A vigild chain with a damaged entry: the replay stops and names it.
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
vg principal add v --id tick --org acme --kind system --role ticketing
tkey=$(printf '%s\n' "$OUT" | head -n 1)
"$VIGIL_BIN/vigild" --dir v --listen "127.0.0.1:$port" --threads 1 \
    --policy "$ROOT/etc/policy.yaml" 2>vigild.log &
dpid=$!
_bgpids="$_bgpids $dpid"
n=0
until curl -sf "http://127.0.0.1:$port/healthz" >/dev/null 2>&1; do
	n=$((n + 1)); [ $n -gt 100 ] && bail "vigild did not start"; sleep 0.1
done
phone=$(sed -n 2p c.csv | cut -d, -f2)
for i in 1 2 3; do
	curl -s -o /dev/null -X POST "http://127.0.0.1:$port/v1/lookup" \
	    -H "Authorization: Bearer $tkey" -H 'Content-Type: application/json' \
	    -d "{\"phone\":\"$phone\"}"
done
kill -TERM "$dpid"; wait "$dpid" 2>/dev/null
vg detect replay v
exit_is 0 "replay after vigild served lookups: exit 0"
like "$ERR" "[4-9] entries" "the vigild chain's entries were folded"
seg=$(ls v/audit/vigild/seg-*.log | head -n 1)
python3 - "$seg" <<'PY'
import sys
p = sys.argv[1]
b = bytearray(open(p, 'rb').read())
b[-40] ^= 0x55		# inside the last entry's hash chain value
open(p, 'wb').write(bytes(b))
PY
vg detect replay v
exit_is 2 "a damaged entry: exit 2"
has "$ERR" "chain vigild" "the error names the chain"
like "$ERR" "seq [0-9]" "and the entry"
done_testing
