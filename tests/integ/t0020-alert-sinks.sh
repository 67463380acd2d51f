#!/bin/sh
# Alert sinks against a real web server (tests/integ/webhook_server.py):
# the webhook gets each alert's JSON with the bearer token; two 500s
# are retried with back-off and the third attempt delivers; a dead port
# and a server slower than the attempt's timeout are counted as failures
# after the retries; and the file gets every alert at once all the while,
# however slow or dead the webhook.  The sender is a hidden mode of the
# unit test program (build/tests/t_alert --deliver); TESTS_BIN says
# where it is.
. "$(dirname "$0")/lib.sh"

TESTS_BIN=${TESTS_BIN:-$ROOT/build/tests}
case $TESTS_BIN in
/*) ;;
*) TESTS_BIN=$ROOT/$TESTS_BIN ;;
esac
TA=$TESTS_BIN/t_alert
[ -x "$TA" ] || bail "no $TA (make tests, or set TESTS_BIN)"

bg python3 "$ROOT/tests/integ/webhook_server.py" "$T/hook.log" 1.5 >ports
i=0
while [ ! -s ports ] && [ $i -lt 50 ]; do
	sleep 0.1
	i=$((i + 1))
done
read -r PORT DEAD <ports || bail "webhook server did not start"
URL=http://127.0.0.1:$PORT

# stat KEY: the counter KEY from the last run's output.
stat() {
	printf '%s\n' "$OUT" | sed -n "s/^$1=//p"
}

# hook EXPR: a Python expression over r, the list of requests logged.
hook() {
	python3 -c '
import json, sys
r = [json.loads(l) for l in open(sys.argv[1])] if len(sys.argv) > 1 else []
print(eval(sys.argv[2]))
' "$T/hook.log" "$1"
}

# 1. Delivered, with the token, as the same bytes the file holds.
T_ALERT_TOKEN=tok-Secret.123 run "$TA" --deliver 3 --webhook "$URL/ok" \
    --file ok.jsonl
exit_is 0 "deliver 3 alerts to /ok and a file"
is "$(stat delivered_webhook)" 3 "the webhook delivered 3"
is "$(stat delivered_file)" 3 "the file delivered 3"
is "$(stat webhook_retries)/$(stat webhook_failures)" 0/0 \
    "no retries, no failures"
is "$(hook 'len([x for x in r if x["path"] == "/ok"])')" 3 \
    "the server got 3 POSTs"
is "$(hook 'set(x["auth"] for x in r if x["path"] == "/ok")')" \
    "{'Bearer tok-Secret.123'}" "each with Authorization: Bearer <token>"
is "$(hook 'set(x["ctype"] for x in r if x["path"] == "/ok")')" \
    "{'application/json'}" "and Content-Type: application/json"
is "$(hook '"\n".join(x["body"] for x in r if x["path"] == "/ok")')" \
    "$(cat ok.jsonl)" "the bodies are the file's lines, in order"
is "$(hook 'json.loads(r[0]["body"])["event"]["kind"]')" alert \
    "a body is the alert's ECS JSON"
lacks "$ERR$OUT" "tok-Secret" "the token is never printed"

# 2. 500, 500, 200: delivered after two retries, counted on both sides.
run "$TA" --deliver 1 --webhook "$URL/flaky" --retries 5 --base-ms 100
exit_is 0 "deliver 1 alert to /flaky"
is "$(stat delivered_webhook)" 1 "delivered in the end"
is "$(stat webhook_retries)" 2 "after 2 retries"
is "$(stat webhook_failures)" 0 "with no failure counted"
is "$(hook '[x["status"] for x in r if x["path"] == "/flaky"]')" \
    "[500, 500, 200]" "the server answered 500 twice, then 200"

# 3. A dead port: each alert fails after its retries; the file has them
# all long before.
run "$TA" --deliver 3 --webhook "http://127.0.0.1:$DEAD/x" --retries 2 \
    --base-ms 50 --file dead.jsonl
exit_is 0 "deliver 3 alerts to a dead port and a file"
is "$(stat webhook_failures)" 3 "3 failures counted"
is "$(stat webhook_retries)" 6 "after 2 retries each"
is "$(stat delivered_webhook)" 0 "nothing delivered to the webhook"
is "$(stat delivered_file)" 3 "the file delivered 3"
is "$(wc -l <dead.jsonl | tr -d ' ')" 3 "the file holds 3 lines"
ms=$(stat file_ms)
if [ "${ms:--1}" -ge 0 ] && [ "$ms" -lt 1000 ]; then
	ok "the file had them in ${ms} ms (under 1 s) despite the dead webhook"
else
	not_ok "the file was prompt despite the dead webhook" "file_ms=$ms"
fi

# 4. A slow webhook (1.5 s per answer): the file is not held up; with a
# long enough attempt timeout both POSTs are delivered, one after the
# other.
run "$TA" --deliver 2 --webhook "$URL/slow" --timeout-ms 10000 \
    --file slow.jsonl --flush-ms 10000
exit_is 0 "deliver 2 alerts to a slow webhook and a file"
ms=$(stat file_ms)
if [ "${ms:--1}" -ge 0 ] && [ "$ms" -lt 1000 ]; then
	ok "the file had both in ${ms} ms while the first POST waited 1.5 s"
else
	not_ok "the file was prompt despite the slow webhook" "file_ms=$ms"
fi
is "$(stat delivered_webhook)" 2 "the slow webhook got both in the end"

# 5. Slower than the attempt's timeout: a failure after the retries.
run "$TA" --deliver 1 --webhook "$URL/slow" --timeout-ms 300 --retries 1 \
    --base-ms 50 --flush-ms 10000
exit_is 0 "deliver 1 alert to a webhook slower than the timeout"
is "$(stat webhook_failures)/$(stat webhook_retries)" 1/1 \
    "timed out twice: 1 retry, then 1 failure"

done_testing
