#!/bin/sh
# vigil sim run and vigil eval: the simulated world through the in-process
# driver; the summary, JSON, determinism, the report files, and clear
# errors for bad options.
. "$(dirname "$0")/lib.sh"

SMALL="--customers 20000 --days 4"

# --- sim run --------------------------------------------------------------------
vg sim run $SMALL
exit_is 0 "sim run: exit 0"
like "$OUT" '^world: seed 1, 4 days from 2027-01-04T00:00:00Z, 20000 customers, 10[0-9][0-9] principals$' \
    "names the world"
like "$OUT" '^traffic: [0-9]+ contacts, [0-9]+ actions, [0-9]+ audit entries$' "the traffic"
like "$OUT" '^false alerts: [0-9.]+ per 1,000 principal-days' "false alerts per 1,000 principal-days"
like "$OUT" '^legitimate reveals: [0-9]+, [0-9.]+% under a case' "reveals under a case"
like "$OUT" '^exports: 12 made, [0-9]{4} customers in them \(not reveals\)$' \
    "the exporters' files: three exporters, four working days"
lacks "$OUT" "strategy" "no insider table without insiders"
is "$ERR" "" "nothing on stderr"
first=$OUT
vg sim run $SMALL
is "$OUT" "$first" "the same options print the same summary"
vg sim run $SMALL --seed 2
isnt "$OUT" "$first" "another seed, another world"
vg sim run $SMALL --policy "$ROOT/etc/sim-policy.yaml"
is "$OUT" "$first" "--policy etc/sim-policy.yaml is the built-in policy"

vg sim run $SMALL --insiders bulk=1,low_slow,validate=1
exit_is 0 "sim run with insiders: exit 0"
like "$OUT" '^insider +strategy +detected' "an insider table"
like "$OUT" ' bulk +yes +[0-9.]+ h +[0-9.]+ h +[0-9] +[0-9]{3,} ' \
    "the bulk harvester: detected, contained, a handful taken of hundreds"
like "$OUT" ' low_slow +yes ' "low and slow: detected"
like "$OUT" ' validate +yes .*lookup_misses' "validation: detected by its misses"

vg sim run $SMALL --ring 6 --alerts
exit_is 0 "a ring of 6 with --alerts: exit 0"
is "$(printf '%s\n' "$OUT" | grep -c ' ring ')" 6 "six ring members in the table"
like "$OUT" '^\* dismissed: works through [a-z]+-a[0-9]{4}'"'"'s key$' "one dismissed, working through a colleague"

vg sim run $SMALL --insiders launder --json
exit_is 0 "--json: exit 0"
is "$(printf '%s\n' "$OUT" | python3 -c '
import json, sys
d = json.load(sys.stdin)
i = d["insiders"]
ok = (len(i) == 1 and i[0]["strategy"] == "launder" and i[0]["detected"]
      and i[0]["taken"] <= i[0]["would_take"] and d["days"] == 4
      and d["alerts"] == len(d["alert_list"])
      and d["alerts"] == d["true_alerts"] + d["false_alerts"]
      and d["exports"] == 12 and d["export_rows"] > 100 * d["exports"]
      and any(a["true"] for a in d["alert_list"]))
print("ok" if ok else d)
')" ok "one JSON object: the insider, its truth and every alert"

# --- sim run: errors -------------------------------------------------------------
vg sim
exit_is 1 "no subcommand: exit 1"
like "$ERR" "^vigil sim: expected a subcommand: run" "says what is expected"
vg sim walk
exit_is 1 "an unknown subcommand: exit 1"
vg sim run --days 0
exit_is 1 "--days 0: exit 1"
like "$ERR" "^vigil sim: --days takes 1 to 60" "with the range"
vg sim run --insiders thief=1
exit_is 1 "an unknown strategy: exit 1"
like "$ERR" "unknown strategy 'thief' \(bulk, low_slow" "named, with the known ones"
vg sim run --insiders bulk=x
exit_is 1 "a bad count: exit 1"
like "$ERR" "bulk: a count from 0 to 100" "says what a count is"
vg sim run --principals 100 --insiders bulk=30
exit_is 1 "too many insiders: exit 1"
like "$ERR" "^vigil sim: insiders: at most a quarter" "says the limit"
vg sim run --frobnicate
exit_is 1 "an unknown option: exit 1"
like "$ERR" "unknown option '--frobnicate'" "named"
vg sim run --policy nosuch.yaml
exit_is 2 "a missing policy file: exit 2"
like "$ERR" "nosuch.yaml" "names the file"
printf 'version: 1\nroles:\n  agent:\n    actions: [lookup, reveal]\n' >bad.yaml
vg sim run $SMALL --policy bad.yaml
exit_is 2 "a bad policy: exit 2"
like "$ERR" "^vigil sim: bad.yaml:[0-9]+:[0-9]+: " "names file, line and column"

# --- eval -----------------------------------------------------------------------
vg eval --days 3 --seeds 1 --out rep
exit_is 0 "eval: exit 0"
check "eval writes rep/eval.md" test -s rep/eval.md
check "and rep/eval.html" test -s rep/eval.html
like "$OUT" "^wrote rep/eval.md and rep/eval.html$" "says so"
like "$OUT" '^false alerts: [0-9.]+ per 1,000 principal-days' "prints the false alert rate"
md=$(cat rep/eval.md)
for s in bulk low_slow off_shift launder validate enumerate mimic ring; do
	like "$md" "^\| $s \| [0-9]+ \| [0-9]+ \(" "eval.md has a row for $s"
done
like "$md" '^\| at most 1 false alert per 1,000 principal-days \| [0-9.]+ \(people alone [0-9.]+\) \| (yes|no|no \(yes for people\)) \|$' \
    "and the targets of issue 5"
like "$md" "^Made by \`vigil eval --days 3 --seeds 1\`" "and the command that made it"
is "$(grep -c '<svg' rep/eval.html)" 3 "eval.html has three plots"
check "eval.html ends its document" grep -q '</html>' rep/eval.html
cp rep/eval.md first.md
cp rep/eval.html first.html
vg eval --days 3 --seeds 1 --out rep
check "the same options write the same eval.md" cmp -s first.md rep/eval.md
check "and the same eval.html" cmp -s first.html rep/eval.html

vg eval --seeds 0
exit_is 1 "--seeds 0: exit 1"
like "$ERR" "^vigil eval: --seeds takes 1 to 50" "with the range"
vg eval --days 2
exit_is 1 "--days 2: exit 1"
vg eval --days 3 --seeds 1 extra
exit_is 1 "an extra argument: exit 1"
: >afile
vg eval --days 3 --seeds 1 --out afile/sub
exit_is 2 "--out under a file: exit 2"
like "$ERR" "^vigil eval: cannot create 'afile/sub'" "names the directory"

vg help sim
like "$OUT" "^usage: vigil sim run" "vigil help sim"
vg help eval
like "$OUT" "^usage: vigil eval" "vigil help eval"

done_testing
