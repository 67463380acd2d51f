#!/bin/sh
# Checkpoints reach witnesses outside the vault: a directory, a syslog
# collector (RFC 5424 over UDP) and an HTTP endpoint, and a verify with
# those witnesses' checkpoints passes; a re-signed log is caught by them.
. "$(dirname "$0")/lib.sh"

bg python3 "$ROOT/tests/integ/witness_server.py" "$T/w" --fail-first 1 \
    >ports
i=0
while [ ! -s ports ] && [ $i -lt 50 ]; do
	sleep 0.1
	i=$((i + 1))
done
read -r UDP HTTP <ports || bail "witness server did not start"
mkdir wdir

VIGIL_WITNESS_DIRS=$T/wdir VIGIL_WITNESS_SYSLOG=127.0.0.1:$UDP \
    VIGIL_WITNESS_URL=http://127.0.0.1:$HTTP/checkpoint
export VIGIL_WITNESS_DIRS VIGIL_WITNESS_SYSLOG VIGIL_WITNESS_URL

vg init v
exit_is 0 "init with three witnesses"
"$VIGIL" gen-customers --count 20 --seed 4 --out c.csv || bail gen
vg import v c.csv
exit_is 0 "import with three witnesses"
phone=$(sed -n 2p c.csv | cut -d, -f2)
vg lookup v --phone "$phone"
exit_is 0 "lookup with three witnesses"
sleep 0.5

n=$(ls wdir | grep -c '^vigil\.local_[0-9a-f]*_cli-[0-9a-f]*\.cp$')
is "$n" 3 "the witness directory holds one checkpoint per command"
origin=$(head -n 1 v/audit/cli/checkpoint)
has "$(cat wdir/*.cp)" "$origin" "directory checkpoints name the chain's origin"

like "$(cat w.syslog 2>/dev/null)" '^<37>1 [0-9T:.-]+Z [^ ]+ vigil - checkpoint - ' \
    "syslog datagrams are RFC 5424 (auth.notice, app vigil, msgid checkpoint)"
has "$(cat w.syslog 2>/dev/null)" "$origin" "syslog carries the signed checkpoint"
is "$(grep -c " checkpoint - $origin\$" w.syslog 2>/dev/null)" 3 \
    "syslog received all three checkpoints"

has "$(cat w.http 2>/dev/null)" "$origin" "the HTTP witness received checkpoints"
# The first POST got a 503: the sink retried, so every checkpoint still
# arrived (the newest one at least; older ones may be superseded).
has "$(cat w.http)" "$(sed -n 3p v/audit/cli/checkpoint)" \
    "after a 503, the retry delivered the latest checkpoint"

# A verifier with the witnesses' copies.
vg audit verify v --witness wdir
exit_is 0 "verify with the witness directory"
like "$OUT" 'OK: .* 3 witness checkpoints' "three witness checkpoints checked"

# The administrator rewrites the log: a fresh vault's chain, re-signed
# with another key, replaces this one.  The witnesses still hold the old
# checkpoints: verify fails and says so.
unset VIGIL_WITNESS_DIRS VIGIL_WITNESS_SYSLOG VIGIL_WITNESS_URL
"$VIGIL" init other >/dev/null 2>&1 || bail "init other"
rm -rf v/audit/cli
cp -r other/audit/cli v/audit/cli
vg audit verify v --witness wdir
exit_is 2 "a re-signed log fails against the witness directory"
has "$OUT" "inconsistent with witness" "and names the witness inconsistency"

# The same with the syslog copies, split into one file per checkpoint.
mkdir sl
python3 - "$T/w.syslog" "$T/sl" <<'PY'
import sys
data = open(sys.argv[1], "rb").read().split(b"\n==\n")
n = 0
for d in data:
    i = d.find(b" checkpoint - ")
    if i < 0:
        continue
    open("%s/s%d.cp" % (sys.argv[2], n), "wb").write(d[i + 14:])
    n += 1
PY
vg audit verify v --witness sl
exit_is 2 "the syslog witness's checkpoints also catch the rewrite"

done_testing
