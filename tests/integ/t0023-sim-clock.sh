#!/bin/sh
# vigild's simulation clock (`sim: {clock: true}`, for vigil demo): the
# X-Vigil-Sim-Time header sets the time of the server and of its audit
# entries, and it only moves forward; without the setting the header is
# ignored; the setting is refused on anything but a loopback address.
. "$(dirname "$0")/lib.sh"

VIGILD=$VIGIL_BIN/vigild
vg init v
vg gen-customers --count 20 --seed 3 --out c.csv
vg import --quiet v c.csv
vg principal add v --id tick --org acme --kind system --role ticketing
tkey=$(printf '%s\n' "$OUT" | head -n 1)
phone=$(sed -n 2p c.csv | cut -d, -f2)

start() {	# start CONFIG: vigild on a new port with CONFIG appended
	port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
	printf 'listen: 127.0.0.1:%s\nthreads: 1\npolicy: %s\n%s\n' "$port" \
	    "$ROOT/etc/policy.yaml" "$1" >vigild.yaml
	"$VIGILD" --dir v --config vigild.yaml 2>>vigild.log &
	dpid=$!
	_bgpids="$_bgpids $dpid"
	n=0
	until curl -sf "http://127.0.0.1:$port/healthz" >/dev/null 2>&1; do
		n=$((n + 1)); [ $n -gt 100 ] && bail "vigild did not start"
		sleep 0.1
	done
}
stop() {
	kill -TERM "$dpid"; wait "$dpid" 2>/dev/null
}
lookup() {	# lookup [SIM_NS]
	curl -s -o /dev/null -w '%{http_code}' -X POST \
	    "http://127.0.0.1:$port/v1/lookup" -H "Authorization: Bearer $tkey" \
	    -H 'Content-Type: application/json' ${1:+-H "X-Vigil-Sim-Time: $1"} \
	    -d "{\"phone\":\"$phone\"}"
}
last_time() {	# the @timestamp of the newest vigild entry
	"$VIGIL" audit tail v --chain vigild -n 1 2>/dev/null |
	    python3 -c 'import json,sys; print(json.loads(sys.stdin.readline())["@timestamp"][:19])'
}

# 2030-01-07T09:00:00Z and an hour later, in ns.
T1=1894006800000000000
T2=1894010400000000000
start "sim: { clock: true }"
is "$(lookup $T1)" 200 "a lookup with X-Vigil-Sim-Time: 200"
is "$(last_time)" "2030-01-07T09:00:00" "its audit entry carries the simulated time"
is "$(lookup $T2)" 200 "an hour later"
is "$(last_time)" "2030-01-07T10:00:00" "the entry moved with it"
is "$(lookup $T1)" 200 "an earlier simulated time"
is "$(last_time)" "2030-01-07T10:00:00" "the clock never moves back"
is "$(lookup)" 200 "no header"
is "$(last_time)" "2030-01-07T10:00:00" "keeps the simulated time"
is "$(lookup abc)" 200 "a malformed header"
is "$(last_time)" "2030-01-07T10:00:00" "is ignored"
like "$(cat vigild.log)" "simulated clock" "vigild says loudly that it runs a simulated clock"
stop
vg audit verify v
exit_is 0 "the log with simulated times verifies"

: >vigild.log
start ""
is "$(lookup 1999999999000000000)" 200 "without sim.clock, a header for 2033..."
# The real clock is behind the simulated times already in this log, and
# entry times never go backwards: the entry keeps the last one.
is "$(last_time)" "2030-01-07T10:00:00" "...is ignored (the time stays the log's last)"
stop

printf 'listen: 0.0.0.0:0\npolicy: %s\nsim: { clock: true }\n' \
    "$ROOT/etc/policy.yaml" >open.yaml
run "$VIGILD" --dir v --config open.yaml
exit_is 1 "sim.clock on a non-loopback address: refused"
has "$ERR" "loopback only" "and says why"
done_testing
