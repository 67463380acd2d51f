#!/bin/sh
# The test runner: runs every unit test program, every integration
# script and (when built) a short run of every fuzzer, reads their TAP
# output, and ends with "N passed, N failed".  Logs go to $LOGDIR.
#
# Environment: VIGIL_BIN (dir with vigil, vigild), TESTS_BIN (dir with
# t_* unit programs), FUZZ_BIN (dir with fuzz_* programs, optional),
# FUZZ_TIME (seconds per fuzzer, default 10), ONLY (substring filter).
set -u

ROOT=$(cd "$(dirname "$0")/.." && pwd)
VIGIL_BIN=${VIGIL_BIN:-$ROOT/bin}
TESTS_BIN=${TESTS_BIN:-$ROOT/build/tests}
FUZZ_BIN=${FUZZ_BIN:-}
FUZZ_TIME=${FUZZ_TIME:-10}
LOGDIR=${LOGDIR:-$ROOT/build/test-logs}
ONLY=${ONLY:-}
export VIGIL_BIN ROOT

mkdir -p "$LOGDIR"
passed=0
failed=0
todos=0
failures=""

# run_one NAME CMD...: runs a TAP producer and folds its counts in.
run_one() {
	name=$1
	shift
	case "$name" in *"$ONLY"*) ;; *) return 0 ;; esac
	log="$LOGDIR/$name.log"
	mkdir -p "$(dirname "$log")"
	start=$(date +%s)
	"$@" >"$log" 2>&1 </dev/null
	rc=$?
	secs=$(( $(date +%s) - start ))
	p=$(grep -c '^ok ' "$log")
	# A "not ok ... # TODO" is a known, reported bug: counted apart.
	f=$(grep '^not ok ' "$log" | grep -vc '# TODO')
	todo=$(grep '^not ok ' "$log" | grep -c '# TODO')
	p=$((p + todo))
	todos=$((todos + todo))
	plan=$(sed -n 's/^1\.\.\([0-9][0-9]*\).*/\1/p' "$log" | tail -n 1)
	note=""
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		f=1
		note=" (exit status $rc)"
	elif [ -z "$plan" ]; then
		f=$((f + 1))
		note=" (no plan: test stopped early)"
	elif [ "$plan" -ne $((p + f)) ]; then
		f=$((f + 1))
		note=" (planned $plan, ran $((p + f - 1)))"
	fi
	passed=$((passed + p))
	failed=$((failed + f))
	if [ "$f" -ne 0 ]; then
		failures="$failures $name"
		printf '%-40s FAIL %d/%d%s (%ss)\n' "$name" "$f" $((p + f)) "$note" "$secs"
		grep -A3 '^not ok ' "$log" | head -n 40 | sed 's/^/    /'
		[ -n "$note" ] && tail -n 15 "$log" | sed 's/^/    | /'
	else
		printf '%-40s ok %d (%ss)\n' "$name" "$p" "$secs"
	fi
}

for t in "$TESTS_BIN"/t_*; do
	[ -x "$t" ] || continue
	run_one "unit/$(basename "$t")" "$t"
done

for t in "$ROOT"/tests/integ/t[0-9]*.sh; do
	[ -f "$t" ] || continue
	run_one "integ/$(basename "$t" .sh)" sh "$t"
done

if [ -n "$FUZZ_BIN" ]; then
	for f in "$FUZZ_BIN"/fuzz_*; do
		[ -x "$f" ] || continue
		n=$(basename "$f")
		run_one "fuzz/$n" sh "$ROOT/tests/fuzz-run.sh" "$f" \
		    "$ROOT/fuzz/corpus/${n#fuzz_}" "$FUZZ_TIME"
	done
fi

if [ -n "$failures" ]; then
	echo "failed:$failures (logs in $LOGDIR)"
fi
[ "$todos" -gt 0 ] && echo "($todos known bugs marked TODO, counted as passed)"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
