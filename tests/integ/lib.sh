# tests/integ/lib.sh: a small POSIX sh TAP helper for the integration
# scripts.  Source it first thing:
#
#	. "$(dirname "$0")/lib.sh"
#
# Environment: VIGIL_BIN (directory holding vigil; default $ROOT/bin),
# ROOT (the repository; default two levels up from this file),
# VIGIL_KEEP_TMP=1 keeps the temp dir for debugging.
#
# After sourcing, the script runs inside its own temp dir $T (removed on
# exit), VIGIL is the binary, VIGIL_MASTER_KEY is unset and LC_ALL=C.
#
# Checks (each prints one TAP line "ok N - DESC" or "not ok N - DESC"):
#	ok DESC / not_ok DESC [DIAG...]	 a result decided by the caller
#	check DESC CMD [ARG...]		 passes when CMD exits 0
#	is GOT WANT DESC / isnt GOT WANT DESC
#	like GOT ERE DESC / unlike GOT ERE DESC	(grep -E, any line)
#	has GOT STRING DESC / lacks GOT STRING DESC	(fixed substring)
#	exit_is WANT DESC		 the status of the last `run`
#	mode_is PATH -rw------- DESC	 ls -ld permission string
# Running commands:
#	run CMD [ARG...]	 stdout, stderr and status into OUT, ERR, RC;
#				 a sanitizer report in stderr is a failure
#	vg ARG...		 run "$VIGIL" ARG...
# Also: diag MSG, skip DESC WHY, bail MSG, done_testing.
#
# Set TODO="bug: ..." around a check that fails because of a known,
# reported bug; its line then ends "# TODO bug: ..." and does not fail
# the script.

set -u

ROOT=${ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
VIGIL_BIN=${VIGIL_BIN:-$ROOT/bin}
case $VIGIL_BIN in
/*) ;;
*) VIGIL_BIN=$(cd "$VIGIL_BIN" 2>/dev/null && pwd) || VIGIL_BIN=/nonexistent ;;
esac
VIGIL=$VIGIL_BIN/vigil
export ROOT VIGIL_BIN

unset VIGIL_MASTER_KEY
LC_ALL=C
export LC_ALL
# A sanitizer report must not look like a usage error (status 1).
ASAN_OPTIONS="exitcode=86:${ASAN_OPTIONS:-}"
UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1:exitcode=87:${UBSAN_OPTIONS:-}"
export ASAN_OPTIONS UBSAN_OPTIONS

TODO=""
OUT=""
ERR=""
RC=0
_tn=0
_tfail=0
_bgpids=""

_cleanup() {
	for _p in $_bgpids; do
		kill "$_p" 2>/dev/null
		wait "$_p" 2>/dev/null
	done
	cd / || :
	if [ "${VIGIL_KEEP_TMP:-0}" = 1 ]; then
		echo "# kept $T" >&2
	else
		rm -rf "$T"
	fi
}

T=$(mktemp -d "${TMPDIR:-/tmp}/vigil-integ.XXXXXX") || {
	echo "Bail out! cannot create a temp dir"
	exit 1
}
trap _cleanup EXIT
trap 'exit 129' HUP
trap 'exit 130' INT
trap 'exit 143' TERM
mkdir "$T/.tmp" || exit 1
TMPDIR=$T/.tmp
export TMPDIR
cd "$T" || exit 1

diag() {
	printf '%s\n' "$@" | sed 's/^/# /'
}

_line() {	# _line ok|not ok DESC
	_tn=$((_tn + 1))
	if [ -n "$TODO" ]; then
		printf '%s %d - %s # TODO %s\n' "$1" "$_tn" "$2" "$TODO"
	else
		printf '%s %d - %s\n' "$1" "$_tn" "$2"
	fi
}

ok() {
	_line ok "$1"
}

not_ok() {
	_line "not ok" "$1"
	[ -n "$TODO" ] || _tfail=$((_tfail + 1))
	shift
	[ $# -gt 0 ] && diag "$@"
	return 1
}

skip() {
	_tn=$((_tn + 1))
	printf 'ok %d - %s # SKIP %s\n' "$_tn" "$1" "$2"
}

bail() {
	echo "Bail out! $*"
	exit 1
}

check() {
	_d=$1
	shift
	if "$@"; then
		ok "$_d"
	else
		not_ok "$_d" "command failed: $*"
	fi
}

is() {
	if [ "$1" = "$2" ]; then
		ok "$3"
	else
		not_ok "$3" "     got: $1" "expected: $2"
	fi
}

isnt() {
	if [ "$1" != "$2" ]; then
		ok "$3"
	else
		not_ok "$3" "got what it must not be: $1"
	fi
}

like() {
	if printf '%s\n' "$1" | grep -Eq -- "$2"; then
		ok "$3"
	else
		not_ok "$3" "     got: $1" "expected to match: $2"
	fi
}

unlike() {
	if printf '%s\n' "$1" | grep -Eq -- "$2"; then
		not_ok "$3" "     got: $1" "must not match: $2"
	else
		ok "$3"
	fi
}

has() {
	case $1 in
	*"$2"*) ok "$3" ;;
	*) not_ok "$3" "     got: $1" "expected to contain: $2" ;;
	esac
}

lacks() {
	case $1 in
	*"$2"*) not_ok "$3" "     got: $1" "must not contain: $2" ;;
	*) ok "$3" ;;
	esac
}

# run CMD [ARG...]: OUT, ERR (trailing newlines stripped), RC.  stdin is
# inherited, so `run vigil import DIR - <file` works.
run() {
	"$@" >"$T/.out" 2>"$T/.err"
	RC=$?
	OUT=$(cat "$T/.out")
	ERR=$(cat "$T/.err")
	if grep -Eq 'Sanitizer|runtime error:' "$T/.err"; then
		not_ok "no sanitizer report from: $*" "$(head -n 30 "$T/.err")"
	fi
	return 0
}

vg() {
	run "$VIGIL" "$@"
}

# exit_is WANT DESC: the status of the last run; shows stderr if wrong.
exit_is() {
	if [ "$RC" = "$1" ]; then
		ok "$2"
	else
		not_ok "$2" "exit status $RC, expected $1" "stderr: $ERR"
	fi
}

# mode_of PATH: the permission string of ls -ld, e.g. -rw-------.
mode_of() {
	ls -ld "$1" 2>/dev/null | cut -c1-10
}

mode_is() {
	is "$(mode_of "$1")" "$2" "$3"
}

# json EXPR: evaluates a Python expression over d, the JSON read from
# stdin; prints the result, or JSON-ERROR if stdin does not parse.
json() {
	python3 -c '
import json, sys
try:
    d = json.load(sys.stdin)
except ValueError:
    print("JSON-ERROR")
    sys.exit(0)
print(eval(sys.argv[1]))
' "$1"
}

# customers DIR: the customer count from vigil stats --json (or ERROR).
# (The top-level "customers" key, 2-space indent; sed is much quicker
# than starting python for every count.)
customers() {
	_c=$("$VIGIL" stats "$1" --json 2>/dev/null |
	    sed -n 's/^  "customers": \([0-9][0-9]*\),*$/\1/p')
	echo "${_c:-ERROR}"
}

# new_key: a fresh base64 master key.
new_key() {
	head -c 32 /dev/urandom | base64 | tr -d '\n'
}

# bg CMD...: runs CMD in the background; it is killed on exit.
bg() {
	"$@" &
	_bgpids="$_bgpids $!"
}

done_testing() {
	echo "1..$_tn"
	[ "$_tfail" -eq 0 ]
	exit $?
}

[ -x "$VIGIL" ] || bail "no vigil binary at $VIGIL (set VIGIL_BIN)"
command -v python3 >/dev/null 2>&1 || bail "python3 is required"
