#!/bin/sh
# vigil principal: add (the API key printed once, never stored), list,
# show, suspend, reinstate, revoke-key; exit statuses, validation, audit
# entries for every change, and a verifying audit log afterwards.
. "$(dirname "$0")/lib.sh"

"$VIGIL" init v >/dev/null 2>&1 || bail "init failed"

# --- add -----------------------------------------------------------------------
vg principal add v --id alice --org acme --kind employee --role agent \
    --region GD --shift "Asia/Shanghai Mon-Fri 09:00-18:00"
exit_is 0 "add: exit 0"
key=$OUT
like "$key" '^vk_[0-9a-f]{16}_[a-z2-7]{52}$' "add prints one vk_ key"
has "$ERR" "shown only once" "and warns that it is shown once"
lacks "$ERR" "$key" "the warning does not repeat the key"
kid=$(printf '%s' "$key" | cut -c4-19)
secret=${key##*_}

vg principal add v --id svc.crm --org acme --kind system --role ticketing
exit_is 0 "add a system principal without region or shift"
key2=$OUT

vg principal add v --id alice --org acme --kind employee --role agent
exit_is 2 "adding a taken id: exit 2"
is "$OUT" "" "and prints no key"
has "$ERR" "already exists" "and says why"

# --- validation ------------------------------------------------------------------
vg principal add v --id Alice --org acme --kind employee --role agent
exit_is 1 "upper-case id: exit 1"
vg principal add v --id bob --org acme --kind contractor --role agent
exit_is 1 "bad kind: exit 1"
vg principal add v --id bob --org acme --kind employee --role root
exit_is 1 "bad role: exit 1"
vg principal add v --id bob --org acme --kind employee --role agent \
    --region Atlantis
exit_is 1 "bad region: exit 1"
vg principal add v --id bob --org acme --kind employee --role agent \
    --shift "whenever"
exit_is 1 "bad shift: exit 1"
vg principal add v --id bob --org acme --kind employee --role agent \
    --shift "Mars/Olympus Mon-Fri 09:00-18:00"
exit_is 1 "an unknown time zone: exit 1"
has "$ERR" "--shift: unknown time zone" "it says which part is wrong"
vg principal add v --id bob --org acme --kind employee --role agent \
    --shift "UTC Mon-Frx 09:00-18:00"
has "$ERR" "--shift: bad day list" "a bad day list: it says so"
vg principal add v --id bob --org acme --kind employee
exit_is 1 "missing --role: exit 1"
vg principal add v --id bob --org "a c" --kind employee --role agent
exit_is 1 "bad org: exit 1"
is "$OUT" "" "a refused add prints no key"
vg principal frobnicate v
exit_is 1 "unknown subcommand: exit 1"

# --- list and show ----------------------------------------------------------------
vg principal list v
exit_is 0 "list: exit 0"
has "$OUT" "alice" "list shows alice"
has "$OUT" "svc.crm" "list shows svc.crm"
has "$OUT" "CN-GD" "the region is shown as its code"
lacks "$OUT" "bob" "refused principals are not listed"
vg principal list v --json
exit_is 0 "list --json: exit 0"
has "$OUT" '"id": "alice"' "list --json has alice"
vg principal show v alice
exit_is 0 "show: exit 0"
has "$OUT" "$kid" "show lists the key id"
lacks "$OUT" "$secret" "show does not show the secret"
vg principal show v alice --json
has "$OUT" '"state": "active"' "show --json has the state"
has "$OUT" '"key_id": "'"$kid"'"' "show --json has the key id"
vg principal show v nobody
exit_is 2 "show an unknown principal: exit 2"

# --- suspend, reinstate, revoke-key ----------------------------------------------------
vg principal suspend v alice
exit_is 0 "suspend: exit 0"
vg principal show v alice
has "$OUT" "suspended" "the principal is suspended"
vg principal reinstate v alice
exit_is 0 "reinstate: exit 0"
vg principal show v alice --json
has "$OUT" '"state": "active"' "the principal is active again"
vg principal suspend v nobody
exit_is 2 "suspend an unknown principal: exit 2"
vg principal revoke-key v "$kid"
exit_is 0 "revoke-key: exit 0"
vg principal show v alice
like "$OUT" "$kid.*revoked" "the key is revoked"
vg principal revoke-key v 0011223344556677
exit_is 2 "revoke an unknown key: exit 2"
vg principal revoke-key v "$key"
exit_is 1 "revoke-key with a whole key instead of its id: exit 1"
lacks "$ERR" "$secret" "and the error does not echo the secret"

# --- the key is nowhere on disk ------------------------------------------------
hits=$(grep -rlF "$secret" v 2>/dev/null)
is "$hits" "" "no vault file holds the first secret"
hits=$(grep -rlF "${key2##*_}" v 2>/dev/null)
is "$hits" "" "no vault file holds the second secret"

# --- audit -------------------------------------------------------------------------
vg audit query v --action principal.add
exit_is 0 "audit query: exit 0"
n=$(printf '%s\n' "$OUT" | grep -c '"principal.add"')
is "$n" 3 "three principal.add entries (two allowed, one denied)"
vg audit tail v -n 100
has "$OUT" '"principal.suspend"' "suspend is audited"
has "$OUT" '"principal.reinstate"' "reinstate is audited"
has "$OUT" '"principal.revoke_key"' "revoke-key is audited"
lacks "$OUT" "$secret" "no audit entry holds the secret"
lacks "$OUT" "$key" "no audit entry holds the key"
vg audit verify v
exit_is 0 "audit verify: exit 0"
has "$OUT" "OK" "the audit log verifies"

done_testing
