#!/bin/sh
# bench/http/run.sh: the HTTP library measurement (README.md beside this
# file).  Builds srv_mhd, srv_evhttp and srv_h2o, checks each with curl
# (200 and valid JSON, 404 elsewhere) and with 1,000 concurrent
# connections, then measures POST /v1/echo with wrk on loopback
# (keep-alive, 1 wrk thread) at 64 and 256 connections, with the server
# on 1 thread pinned to CPU 0 and wrk pinned to CPU 1, and with the
# server on 2 threads and nothing pinned.  Prints a Markdown table.
#
# Environment: SERVERS (default "mhd evhttp h2o"), THREADS (default
# "1 2"), CONNS (default "64 256"), SECS (default 10), WARM (default 2),
# PORT (default 18080).  Run it on an otherwise idle machine.
set -eu

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
B=$ROOT/build/bench-http
SERVERS=${SERVERS:-mhd evhttp h2o}
THREADS=${THREADS:-1 2}
CONNS=${CONNS:-64 256}
SECS=${SECS:-10}
WARM=${WARM:-2}
PORT=${PORT:-18080}
URL=http://127.0.0.1:$PORT/v1/echo
LUA=$HERE/post.lua
BODY=$(sed -n "s/^wrk.body = '\(.*\)'$/\1/p" "$LUA")
work=$(mktemp -d /tmp/vigil-httpbench.XXXXXX)
pid=""

cleanup() {
	if [ -n "$pid" ]; then
		kill "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	fi
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

for t in wrk curl taskset python3 pkg-config; do
	command -v "$t" >/dev/null 2>&1 || {
		echo "http-bench: $t missing (tools/deps.sh installs it)" >&2
		exit 1
	}
done
make -s -C "$HERE" OUT="$B" >&2

load=$(cut -d' ' -f1 /proc/loadavg)

# start NAME NTHREADS: start a server (pinned to CPU 0 when NTHREADS is 1)
# and wait until it answers.
start() {
	if [ "$2" -eq 1 ]; then
		taskset -c 0 "$B/srv_$1" "$PORT" 1 2>"$work/$1.err" &
	else
		"$B/srv_$1" "$PORT" "$2" 2>"$work/$1.err" &
	fi
	pid=$!
	i=0
	until curl -s -o /dev/null "http://127.0.0.1:$PORT/"; do
		i=$((i + 1))
		if [ $i -gt 100 ] || ! kill -0 "$pid" 2>/dev/null; then
			echo "http-bench: srv_$1 did not start" >&2
			cat "$work/$1.err" >&2
			exit 1
		fi
		sleep 0.05
	done
}

stop() {
	kill "$pid"
	wait "$pid" 2>/dev/null || true
	pid=""
}

# check NAME: the answers a client must get.
check() {
	code=$(curl -s -o "$work/body" -w '%{http_code}' -X POST \
	    -H 'Content-Type: application/json' --data "$BODY" "$URL")
	ctype=$(curl -s -o /dev/null -w '%{content_type}' -X POST \
	    --data "$BODY" "$URL")
	if [ "$code" != 200 ] || [ "$ctype" != application/json ] ||
	    ! python3 -c 'import json, sys
d = json.load(open(sys.argv[1]))
assert d["phone"] == "+8613800138000" and d["decision"] == "allow"' \
	    "$work/body"; then
		echo "http-bench: srv_$1: bad answer ($code, $ctype)" >&2
		cat "$work/body" >&2
		exit 1
	fi
	code=$(curl -s -o /dev/null -w '%{http_code}' -X POST --data "$BODY" \
	    "http://127.0.0.1:$PORT/v1/other")
	[ "$code" = 404 ] || {
		echo "http-bench: srv_$1: /v1/other gave $code, want 404" >&2
		exit 1
	}
	echo "http-bench: srv_$1: 200 application/json valid JSON, 404" >&2
}

# wrkrun NTHREADS CONNS SECS OUTFILE: wrk pinned to CPU 1 when the server
# has one thread.
wrkrun() {
	if [ "$1" -eq 1 ]; then
		taskset -c 1 wrk -t1 -c"$2" -d"$3"s --latency -s "$LUA" \
		    "$URL" >"$4"
	else
		wrk -t1 -c"$2" -d"$3"s --latency -s "$LUA" "$URL" >"$4"
	fi
}

# ms VALUE: wrk's latency (us, ms or s) in milliseconds.
ms() {
	echo "$1" | awk '{ v = $1 + 0
	    if ($1 ~ /us$/) v /= 1000; else if ($1 ~ /[0-9]s$/) v *= 1000
	    printf "%.2f", v }'
}

rows=""
for s in $SERVERS; do
	# Correctness and 1,000 connections, on 2 threads.
	start "$s" 2
	check "$s"
	wrk -t1 -c1000 -d3s -s "$LUA" "$URL" >"$work/c1000" 2>&1 || true
	if ! kill -0 "$pid" 2>/dev/null; then
		echo "http-bench: srv_$s died under 1000 connections" >&2
		exit 1
	fi
	check "$s"
	echo "http-bench: srv_$s: 1000 connections:" \
	    "$(grep 'Requests/sec' "$work/c1000")" \
	    "$(grep -E 'Socket errors|Non-2xx' "$work/c1000" | tr '\n' ' ')" >&2
	stop

	for n in $THREADS; do
		for c in $CONNS; do
			start "$s" "$n"
			wrkrun "$n" "$c" "$WARM" /dev/null
			wrkrun "$n" "$c" "$SECS" "$work/out"
			stop
			rps=$(awk '/^Requests\/sec/ { printf "%.0f", $2 }' \
			    "$work/out")
			p50=$(ms "$(awk '$1 == "50%" { print $2 }' "$work/out")")
			p99=$(ms "$(awk '$1 == "99%" { print $2 }' "$work/out")")
			err=$(awk '/Non-2xx/ { e += $NF }
			    /Socket errors/ { gsub(/,/, ""); e += $4 + $6 + $8 + $10 }
			    END { print e + 0 }' "$work/out")
			echo "http-bench: srv_$s N=$n c=$c: $rps req/s" >&2
			rows="$rows| $s | $n | $c | $rps | $p50 | $p99 | $err |
"
		done
	done
done

echo "HTTP library benchmark: POST /v1/echo (jansson in, jansson out)," \
    "wrk -t1 --latency, keep-alive, ${SECS}s after ${WARM}s warm-up."
echo "Machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo |
    cut -d: -f2 | sed 's/^ //'), $(uname -sr); load average before: $load."
echo "N=1: server taskset -c 0, wrk taskset -c 1.  N=2: nothing pinned" \
    "(wrk shares the 2 cores with the server)."
echo
echo "| server | threads (N) | connections | req/s | p50 ms | p99 ms | errors |"
echo "|---|---|---|---|---|---|---|"
printf '%s' "$rows"
