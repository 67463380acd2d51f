#!/bin/sh
# vigil policy explain and vigil policy reload.  explain: the decision for
# a principal, customer, fields and case, with the policy lines behind it
# (no case, break-glass, a case of one's own, another's case, a closed
# case, a quota folded from the audit log, another action, --json);
# reload: a good file is taken by the running vigild, a bad one is
# refused by the CLI with its file:line:column and vigild keeps serving
# under its old policy; no vigild: a clear error.
. "$(dirname "$0")/lib.sh"

VIGILD=$VIGIL_BIN/vigild
vg init v
vg gen-customers --count 20 --seed 3 --out c.csv
vg import --quiet v c.csv
cp "$ROOT/etc/policy.yaml" v/policy.yaml
# A one-per-minute reveal quota for the quota check.
sed 's/reveals: {minute: 10, hour: 120/reveals: {minute: 1, hour: 120/' \
    "$ROOT/etc/policy.yaml" >tight.yaml
vg principal add v --id alice --org acme --kind vendor --role agent
akey=$(printf '%s\n' "$OUT" | head -n 1)
vg principal add v --id tick --org acme --kind system --role ticketing
tkey=$(printf '%s\n' "$OUT" | head -n 1)
vg principal add v --id bob --org acme --kind vendor --role agent
vg principal add v --id sue --org acme --kind employee --role supervisor
skey=$(printf '%s\n' "$OUT" | head -n 1)
phone=$(sed -n 2p c.csv | cut -d, -f2)

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$VIGILD" --dir v --listen "127.0.0.1:$port" --threads 1 2>vigild.log &
dpid=$!
_bgpids="$_bgpids $dpid"
n=0
until curl -sf "http://127.0.0.1:$port/healthz" >/dev/null 2>&1; do
	n=$((n + 1)); [ $n -gt 100 ] && bail "vigild did not start"; sleep 0.1
done
api() {	# api METHOD PATH KEY [BODY]
	curl -s -X "$1" "http://127.0.0.1:$port$2" -H "Authorization: Bearer $3" \
	    -H 'Content-Type: application/json' ${4:+-d "$4"}
}
cus=$(api POST /v1/lookup "$tkey" "{\"phone\":\"$phone\"}" |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["customers"][0]["id"])')
case_id=$(api POST /v1/cases "$tkey" \
    "{\"customer_id\":\"$cus\",\"assignee\":\"alice\",\"channel\":\"phone\"}" |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')

# --- explain -------------------------------------------------------------------------
vg policy explain v --principal alice --customer "$cus" --fields phone,name
exit_is 0 "explain: exit 0"
like "$OUT" '^decision: deny \(no_case\)$' "no case: deny no_case"
like "$OUT" 'a reveal needs an open case assigned to the caller.*\(policy.yaml:[0-9]+\)' \
    "the case rule is cited with its policy line"
like "$OUT" '^policy: v/policy.yaml \([0-9a-f]{16}\); quota usage from [0-9]+ audit entries$' \
    "it names the policy, its digest and the audit entries folded"

vg policy explain v --principal alice --customer "$cus" --fields phone \
    --justification-bytes 40
like "$OUT" '^decision: allow \(break_glass\)$' "a justification: break-glass"
like "$OUT" '^break-glass: yes, supervisor notified$' "flagged, supervisor told"
vg policy explain v --principal alice --customer "$cus" --fields phone \
    --justification-bytes 3
like "$OUT" '^decision: deny \(justification_required\)$' "too short: justification_required"

vg policy explain v --principal alice --customer "$cus" --fields phone,name \
    --case "$case_id"
like "$OUT" '^decision: allow \(ok\)$' "own open case: allow"
vg policy explain v --principal bob --customer "$cus" --fields phone --case "$case_id"
like "$OUT" '^decision: deny \(case_not_assigned\)$' "another's case: case_not_assigned"
vg policy explain v --principal alice --customer "$cus" --fields address --case "$case_id"
like "$OUT" '^decision: deny \(field_not_allowed\)$' "address for support: field_not_allowed"
vg policy explain v --principal alice --customer "$cus" --fields account_id \
    --purpose account_recovery --case "$case_id"
like "$OUT" '^decision: step_up \(step_up_required\), step-up because ' \
    "a step-up field: step_up, with the reason"
vg policy explain v --principal alice --customer "$cus" --fields account_id \
    --purpose account_recovery --case "$case_id" --approved
like "$OUT" '^decision: allow \(approved\)$' "--approved: allow (approved)"
vg policy explain v --principal alice --customer "$cus" --fields phone --case case_aaaaaaaaaaaaaaaaaaaaaaaaaa
like "$OUT" '^decision: deny \(case_not_found\)$' "an unknown case: case_not_found"

# A real reveal, then the one-per-minute policy: the quota is full.
out=$(api POST "/v1/customers/$cus/reveal" "$akey" \
    "{\"fields\":[\"phone\"],\"purpose\":\"support\",\"case_id\":\"$case_id\"}")
has "$out" '"view":"clear"' "a reveal through vigild"
sleep 1.2	# the entry is durable and vigild's checkpoint may follow
vg policy explain v --principal alice --customer "$cus" --fields phone \
    --case "$case_id" --policy tight.yaml
like "$OUT" '^decision: deny \(quota_exceeded\)$' "the reveal folded from the log fills a quota of 1 a minute"
like "$OUT" '^quota: minute reveals limit 1, retry after [0-9]+ s$' "the window, kind, limit and retry"

vg policy explain v --principal tick --action case_open --json
exit_is 0 "--json: exit 0"
has "$OUT" '"decision": "allow"' "--json: the decision"
has "$OUT" '"steps": [' "--json: the steps"
vg policy explain v --principal alice --action principal_admin
like "$OUT" '^decision: deny \(role_not_allowed\)$' "another action: role_not_allowed"

vg policy explain v --principal nobody --action lookup
exit_is 2 "an unknown principal: exit 2"
has "$ERR" "principal nobody: no such principal" "it says so"
vg policy explain v --principal alice --fields phone
exit_is 1 "a reveal without --customer: usage error"
vg policy explain v --principal alice --customer "$cus" --fields phne
exit_is 1 "an unknown field: usage error"
lacks "$ERR$OUT" "$phone" "no personal value in any output"

# --- an approval relied on by a break-glass reveal is spent ---------------------------
bg='"fields":["account_id"],"purpose":"account_recovery","justification":"the customer called from a new number"'
out=$(api POST "/v1/customers/$cus/reveal" "$akey" "{$bg}")
apr=$(printf '%s' "$out" | python3 -c 'import json,sys; print(json.load(sys.stdin)["error"]["approval_id"])')
has "$out" '"code":"step_up_required"' "break-glass for a step-up field: step-up first"
out=$(api POST "/v1/approvals/$apr/approve" "$skey")
has "$out" '"state":"approved"' "a supervisor approves"
out=$(api POST "/v1/customers/$cus/reveal" "$akey" "{$bg,\"approval_id\":\"$apr\"}")
has "$out" '"break_glass":true' "the retry is allowed, break-glass"
out=$(api POST "/v1/customers/$cus/reveal" "$akey" "{$bg,\"approval_id\":\"$apr\"}")
has "$out" '"code":"step_up_required"' "a second retry with the same approval is a step-up again"
out=$(api GET "/v1/approvals/$apr" "$akey")
has "$out" '"state":"used"' "the approval is spent"

# --- step-up requests per principal are capped ---------------------------------------
i=0
while [ $i -lt 16 ]; do
	api POST "/v1/customers/$cus/reveal" "$akey" \
	    "{\"fields\":[\"account_id\"],\"purpose\":\"account_recovery\",\"case_id\":\"$case_id\"}" >/dev/null
	i=$((i + 1))
done
out=$(curl -s -D hdr.txt -X POST "http://127.0.0.1:$port/v1/customers/$cus/reveal" \
    -H "Authorization: Bearer $akey" -H 'Content-Type: application/json' \
    -d "{\"fields\":[\"account_id\"],\"purpose\":\"account_recovery\",\"case_id\":\"$case_id\"}")
has "$out" '"code":"step_up_limit"' "the 17th pending step-up request: step_up_limit"
like "$(cat hdr.txt)" '^HTTP/1.1 429' "with status 429"
like "$(tr -d '\r' <hdr.txt)" '^[Rr]etry-[Aa]fter: 60$' "and Retry-After"

# --- reload --------------------------------------------------------------------------
vg policy reload v
exit_is 0 "reload: exit 0"
like "$OUT" '^vigild \(pid [0-9]+\) reloaded v/policy.yaml: digest [0-9a-f]{16}, generation 2$' \
    "vigild took it: pid, file, digest, generation"
cp v/policy.yaml good.yaml
printf 'roles: [\n' >>v/policy.yaml
vg policy reload v
exit_is 2 "a bad policy: exit 2"
like "$ERR" 'v/policy.yaml:[0-9]+:[0-9]+: .*\(vigild keeps its current policy\)$' \
    "refused with file:line:column, vigild keeps its policy"
out=$(api POST /v1/lookup "$akey" "{\"phone\":\"$phone\"}")
has "$out" '"customers":[' "vigild still serves"
kill -HUP "$dpid"
sleep 0.5
has "$(cat v/vigild.policy)" "result refused" "a SIGHUP with the bad file: refused (status file)"
out=$(api POST /v1/lookup "$akey" "{\"phone\":\"$phone\"}")
has "$out" '"customers":[' "and vigild still serves under the old policy"
cp good.yaml v/policy.yaml
kill -TERM "$dpid"
wait "$dpid"
is "$?" 0 "vigild stops cleanly"
vg policy reload v
exit_is 2 "no vigild running: exit 2"
has "$ERR" "no vigild runs on v" "it says so"
vg audit verify v
exit_is 0 "the audit log verifies"
done_testing
