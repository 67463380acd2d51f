#!/bin/sh
# vigil demo on a small world (5,000 customers, 150 principals, 2 days, a
# ring of 6): the
# vault is made, vigild runs in simulation mode and stops cleanly, the
# world's requests reach it (the exporter's daily file through POST
# /v1/exports, audited row by row), the summary and the report are written, the
# audit log verifies, the honeytokens are in the vault's set, the ring's loot
# is traced back to its members (vigil trace, audited); and the
# refusals: an existing directory, a missing policy, bad numbers.
. "$(dirname "$0")/lib.sh"

run "$VIGIL" demo week --customers 5000 --principals 150 --days 2 --ring 6 \
    --seed 3 \
    --policy "$ROOT/etc/sim-policy.yaml" --report demo.html --quiet
exit_is 0 "vigil demo on a small world: exit 0"
has "$OUT" "6 insiders:" "the summary counts the ring's 6 insiders"
has "$OUT" "Audit log: verified" "the audit log verified"
like "$OUT" "would have run with no vigil" "and compares with no vigil"
like "$OUT" '^Exports for the courier: 2 files, [1-9][0-9]+ rows \(customers and canaries\)' \
    "the exporter's file each working day, read to its end"
like "$OUT" '^Leak tracing: [1-9][0-9]* of the ring.s stolen customers, found for sale \(week/leak.csv\), traced in [0-9.]+ s: [1-9][0-9]* principals named, [1-9][0-9]* of them keys the ring used \(of 5\), 0 innocent' \
    "the ring's loot is traced: members named, no innocent"
check "the trace's own report is written" test -s week/trace.html
has "$(cat week/trace.html)" "inclusion proof" "with the evidence's proofs"
n=$("$VIGIL" audit query week --chain cli --action leak.trace 2>/dev/null | wc -l)
is "$n" 1 "the trace is audited"
check "the report is written" test -s demo.html
has "$(cat demo.html)" "<h2>Insiders</h2>" "with its insiders section"
has "$(cat demo.html)" "trace.html" "and the trace's result, with a link to its evidence"
lacks "$(cat demo.html)" "Not built yet" "nothing left unbuilt"
check "vigild wrote its alerts file" test -e week/alerts.jsonl
lacks "$(cat week/vigild.log)" '"level":"error"' "vigild logged no error"
has "$(cat week/vigild.log)" "simulated clock" "vigild ran on the simulated clock"
has "$(cat week/vigild.log)" '"msg":"stopped"' "and stopped cleanly"
vg honey status week
is "$OUT" "5 honey records" "the world's honeytokens are in the vault's set"
n=$("$VIGIL" audit query week --chain vigild --action reveal 2>/dev/null | wc -l)
check "the world's reveals reached vigild ($n audited)" test "$n" -gt 1000
n=$("$VIGIL" audit query week --chain vigild --action export --decision allow 2>/dev/null |
    grep -c '"vigil.detail":"export=ex_[a-z2-7]*,consumer=courier,recipient=shipfast-labels,rows=[0-9]*,canaries=[0-9]*,canary_set=')
is "$n" 2 "two export manifests for the courier in vigild's log"
n=$("$VIGIL" audit query week --chain vigild --action export.row 2>/dev/null | wc -l)
check "and their rows ($n export.row entries)" test "$n" -gt 300
n=$("$VIGIL" audit query week --chain vigild --action reveal --principal dmreach-x1 2>/dev/null | wc -l)
is "$n" 0 "the exporter reveals nothing"
vg audit verify week
exit_is 0 "vigil audit verify on the demo's vault"

run "$VIGIL" demo week --customers 5000 --days 1 --policy "$ROOT/etc/sim-policy.yaml"
exit_is 1 "an existing directory: exit 1"
has "$ERR" "exists" "it says so"
run "$VIGIL" demo other --policy nosuch.yaml
exit_is 1 "a missing policy: exit 1"
has "$ERR" "nosuch.yaml" "named"
run "$VIGIL" demo other --days 0
exit_is 1 "--days 0: exit 1"
run "$VIGIL" demo other --customers lots
exit_is 1 "--customers lots: exit 1"
check "nothing was made for the refused runs" test ! -e other
done_testing
