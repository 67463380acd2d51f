#!/bin/sh
# checksrc: the project's source rules that a compiler does not enforce,
# as one TAP check per rule (run by tests/integ/t0000-checksrc.sh).
#  - banned functions (git's banned.h list, plus atoi): strcpy strcat
#    sprintf vsprintf strtok gmtime localtime ctime mktemp atoi gets
#  - every C file starts with an SPDX line
#  - no SQL built with printf-style formatting (prepared statements only)
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
files=$(find lib src bench fuzz tests/unit -name '*.[ch]' | sort)
n=0
fail=0

check() {
	n=$((n + 1))
	if [ -z "$2" ]; then
		echo "ok $n - $1"
	else
		echo "not ok $n - $1"
		echo "$2" | sed 's/^/#   /'
		fail=1
	fi
}

# shellcheck disable=SC2086
hits=$(grep -nE '(^|[^_a-zA-Z0-9.>])(strcpy|strcat|sprintf|vsprintf|strtok|gmtime|localtime|ctime|mktemp|atoi|gets)[[:space:]]*\(' $files |
    grep -v 'snprintf\|vsnprintf' || true)
check "no banned functions" "$hits"

missing=""
for f in $files; do
	head -n 1 "$f" | grep -q 'SPDX-License-Identifier' ||
	    missing="$missing $f"
done
check "every C file starts with an SPDX line" "$missing"

# shellcheck disable=SC2086
hits=$(grep -nE 'snprintf\([^;]*"[^"]*(SELECT|INSERT|UPDATE|DELETE) ' $files || true)
check "no SQL assembled with snprintf" "$hits"

echo "1..$n"
exit $fail
