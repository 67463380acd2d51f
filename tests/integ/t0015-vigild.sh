#!/bin/sh
# vigild end to end: every route and role, every denial reason, request
# bodies and limits, the audit trail of every reveal, a failing audit
# log (tests/integ/failio.c), 1,000 connections, slow clients, SIGHUP,
# restarts, TLS, metrics and graceful stop.  The checks are in
# tests/integ/vigild_e2e.py (TAP); this wrapper only finds the binaries.
#
# Environment: VIGIL_BIN (vigil, vigild), TESTS_BIN (libfailio.so),
# VIGIL_SANITIZE=1 (ASan build: fewer requests, longer waits),
# VIGIL_KEEP_TMP=1.
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
exec python3 "$ROOT/tests/integ/vigild_e2e.py"
