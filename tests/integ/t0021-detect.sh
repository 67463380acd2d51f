#!/bin/sh
# The insider-threat detector end to end against a real vigild: a
# honeytoken lookup contained within a second, a bulk harvester
# contained before 50 records, the alerts API (filters, pages,
# acknowledgement, errors), reinstate and restart, `vigil detect replay`
# byte for byte against the alerts file, the detector's metrics and
# `vigil alerts`.  The checks are in tests/integ/detect_e2e.py (TAP);
# this wrapper only finds the binaries.
#
# Environment: VIGIL_BIN (vigil, vigild), VIGIL_SANITIZE=1 (ASan build:
# longer waits), VIGIL_KEEP_TMP=1.
set -u
ROOT=${ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
VIGIL_BIN=${VIGIL_BIN:-$ROOT/bin}
export ROOT VIGIL_BIN
unset VIGIL_MASTER_KEY
LC_ALL=C
export LC_ALL
command -v python3 >/dev/null 2>&1 || {
	echo "Bail out! python3 is required"
	exit 1
}
[ -x "$VIGIL_BIN/vigild" ] || {
	echo "Bail out! no vigild in $VIGIL_BIN (set VIGIL_BIN)"
	exit 1
}
exec python3 "$ROOT/tests/integ/detect_e2e.py"
