#!/bin/sh
# The audit log survives kill -9: a writer appends continuously and prints
# each acknowledged (durable) seq; it is killed at a random moment, then
# the log is verified, reopened (a torn tail is cut) and verified again,
# and every acknowledged seq must be in it.  The writer and the checker
# are hidden modes of the unit test program (build/tests/t_audit
# --crash-writer / --crash-check); TESTS_BIN says where it is.
. "$(dirname "$0")/lib.sh"

TESTS_BIN=${TESTS_BIN:-$ROOT/build/tests}
case $TESTS_BIN in
/*) ;;
*) TESTS_BIN=$ROOT/$TESTS_BIN ;;
esac
TA=$TESTS_BIN/t_audit
[ -x "$TA" ] || bail "no $TA (make tests, or set TESTS_BIN)"
ROUNDS=${AUDIT_CRASH_ROUNDS:-50}
BUDGET=${AUDIT_CRASH_SECONDS:-50}	# stop early rather than pass 60 s

# rand_ms LO HI: a random number of milliseconds in [LO, HI].
rand_ms() {
	_r=$(od -An -N2 -tu2 /dev/urandom | tr -d ' ')
	echo $(($1 + _r % ($2 - $1 + 1)))
}

# A fresh log every 10 rounds keeps each check short; within a log the
# rounds recover one after another.
start=$(date +%s)
round=0
acked_total=0
torn_rounds=0
max_prev=-1
while [ "$round" -lt "$ROUNDS" ]; do
	if [ $(($(date +%s) - start)) -ge "$BUDGET" ]; then
		diag "time budget of ${BUDGET}s reached after $round rounds"
		break
	fi
	round=$((round + 1))
	v=v$(((round - 1) / 10))
	mkdir -p "$v"
	"$TA" --crash-writer "$T/$v" >"acks.$round" 2>"werr.$round" &
	pid=$!
	ms=$(rand_ms 10 200)
	sleep "$(printf '%d.%03d' $((ms / 1000)) $((ms % 1000)))"
	kill -9 "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	# The highest complete acknowledgement (the writer's threads print
	# them in any order; a line cut by the kill is not one).
	maxack=$(grep -E '^acked [0-9]+$' "acks.$round" | cut -d' ' -f2 |
	    sort -n | tail -n 1)
	maxack=${maxack:--1}
	if grep -q '^error' "acks.$round" || [ -s "werr.$round" ]; then
		not_ok "round $round: the writer ran without errors" \
		    "$(cat "acks.$round" "werr.$round" | grep -v '^acked' | head -n 5)"
	fi
	run "$TA" --crash-check "$T/$v" "$maxack"
	what="round $round: killed after ${ms} ms; acked up to $maxack"
	if [ "$RC" = 0 ]; then
		ok "$what; $OUT"
	else
		not_ok "$what: every acked seq present and verify OK" \
		    "$OUT" "$ERR"
	fi
	case $OUT in
	*"torn=0"*) ;;
	*torn=*) torn_rounds=$((torn_rounds + 1)) ;;
	esac
	if [ "$maxack" -ge 0 ]; then
		acked_total=$((acked_total + 1))
		[ "$maxack" -gt "$max_prev" ] && max_prev=$maxack
	fi
	rm -f "acks.$round" "werr.$round"
done
diag "$round rounds; $acked_total with acknowledged appends; torn tails cut in $torn_rounds"

if [ "$round" -ge 10 ]; then
	ok "at least 10 rounds ran ($round)"
else
	not_ok "at least 10 rounds ran ($round)"
fi
if [ "$acked_total" -ge $((round / 2)) ]; then
	ok "most rounds acknowledged appends before the kill ($acked_total of $round)"
else
	not_ok "most rounds acknowledged appends before the kill ($acked_total of $round)"
fi

# The CLI agrees: the crash chain verifies with its K0.
vg audit verify "$v" --chain crash --mac-key "$v/audit-offline/crash.mac0"
exit_is 0 "vigil audit verify accepts the crashed-and-recovered chain"
has "$OUT" "MACs verified" "with MACs checked"

done_testing
