#!/bin/sh
# fuzz-run.sh FUZZER CORPUS SECONDS: a short libFuzzer run from the
# committed corpus, reported as one TAP check.  New inputs go to a scratch
# directory so the committed corpus only changes by a deliberate merge.
set -u
fuzzer=$1 corpus=$2 secs=$3
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
"$fuzzer" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 \
    -artifact_prefix="$scratch/" "$scratch" "$corpus" 2>"$scratch/log"
rc=$?
runs=$(sed -n 's/^Done \([0-9]*\) runs.*/\1/p' "$scratch/log")
if [ "$rc" -eq 0 ]; then
	echo "ok 1 - $(basename "$fuzzer"): ${runs:-?} runs in ${secs}s, no crash"
else
	echo "not ok 1 - $(basename "$fuzzer") found a crash (exit $rc)"
	tail -n 40 "$scratch/log" | sed 's/^/# /'
	for a in "$scratch"/crash-* "$scratch"/leak-* "$scratch"/timeout-*; do
		[ -f "$a" ] && echo "# artifact: $(od -An -c "$a" | head -n 5)"
	done
fi
echo "1..1"
