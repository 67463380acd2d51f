#!/bin/sh
# Leak tracing end to end: `vigil trace` over dirty leaked files against a
# real vault whose audit log a real vigild wrote, exports named by their
# rows and canaries, POST /v1/leaks/trace and its errors, bad input.  The
# checks are in tests/integ/trace_e2e.py (TAP); this wrapper only finds
# the binaries.
#
# Environment: VIGIL_BIN (vigil, vigild), VIGIL_KEEP_TMP=1.
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
exec python3 "$ROOT/tests/integ/trace_e2e.py"
