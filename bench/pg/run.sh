#!/bin/sh
# bench/pg/run.sh: the baseline for vigild's reveal (README.md beside this
# file).  The same reveal workload on what a team would otherwise build:
# PostgreSQL 15 with pgcrypto-encrypted columns (pgp_sym_encrypt),
# row-level security binding a read to an open case assigned to the
# caller, pgaudit session logging of reads, and an access_log row per
# reveal committed with synchronous_commit=on.  Load comes from pgbench,
# started here.
#
# Steps: create a throwaway cluster in a temporary directory (initdb, as
# an unprivileged OS user when run as root), start it, load N customers
# and one open case each, check that row-level security and the audit
# work (fail loudly if not), warm up, run pgbench, check that every
# reveal it counted left an access_log row and a pgaudit line, print
# pgbench's report to stderr and one summary line to stdout:
#
#   pg_reveal clients=64 threads=2 seconds=10 customers=100000 xacts=N
#     tps=T lat_avg_ms=A p50_ms=P p99_ms=Q failed=0 audit=read
#     transport=unix pgp=default            (all on one line)
#
# The server is stopped and the directory removed on exit, also on
# failure or interrupt.
#
# Environment (defaults in brackets):
#   BENCH_PG_CUSTOMERS [100000]   customers loaded, each with one open case
#   BENCH_PG_AGENTS    [1000]     agents the cases are assigned to
#   BENCH_PG_CLIENTS   [64]       pgbench -c (connections)
#   BENCH_PG_THREADS   [2]        pgbench -j
#   BENCH_PG_SECONDS   [10]       pgbench -T of the measured run
#   BENCH_PG_WARM      [2]        seconds of unmeasured warm-up (0: none)
#   BENCH_PG_AUDIT     [read]     pgaudit.log; "none" measures without it
#   BENCH_PG_TCP       [0]        1: pgbench connects over 127.0.0.1 on a
#                                 random port (scram-sha-256) instead of
#                                 the unix socket
#   BENCH_PG_SHARED_BUFFERS [256MB]
#   BENCH_PG_PGP_OPTIONS [empty: pgcrypto's defaults]  options for
#                                 pgp_sym_encrypt at load, which fix the
#                                 work of every decrypt, e.g. "s2k-mode=1"
#   BENCH_PG_LOAD_JOBS [nproc]    parallel sessions loading customers
#   BENCH_PG_TMPDIR    [$TMPDIR or /tmp]  where the cluster lives; must
#                                 be a real disk for fsync to mean anything
#   BENCH_PG_OSUSER    [vigilbench]  OS user running the server when this
#                                 script runs as root; created (system
#                                 user, no home, no login shell) if missing
#   BENCH_PG_BIN       [/usr/lib/postgresql/15/bin]
#   BENCH_PG_KEEP      [0]        1: keep the (stopped) cluster directory
set -eu

PGBIN=${BENCH_PG_BIN:-/usr/lib/postgresql/15/bin}
NCUST=${BENCH_PG_CUSTOMERS:-100000}
NAGENTS=${BENCH_PG_AGENTS:-1000}
CLIENTS=${BENCH_PG_CLIENTS:-64}
THREADS=${BENCH_PG_THREADS:-2}
SECS=${BENCH_PG_SECONDS:-10}
WARM=${BENCH_PG_WARM:-2}
AUDIT=${BENCH_PG_AUDIT:-read}
TCP=${BENCH_PG_TCP:-0}
SHBUF=${BENCH_PG_SHARED_BUFFERS:-256MB}
PGPOPTS=${BENCH_PG_PGP_OPTIONS:-}
JOBS=${BENCH_PG_LOAD_JOBS:-$(nproc)}
TMPBASE=${BENCH_PG_TMPDIR:-${TMPDIR:-/tmp}}
OSUSER=${BENCH_PG_OSUSER:-vigilbench}
DB=reveal
ADMIN=bench_admin

say() { echo "pg-bench: $*" >&2; }
die() {
	echo "pg-bench: FAIL: $*" >&2
	exit 1
}

for v in "$NCUST" "$NAGENTS" "$CLIENTS" "$THREADS" "$SECS" "$WARM" "$JOBS"; do
	case $v in
	'' | *[!0-9]*) die "BENCH_PG_* counts must be numbers, got '$v'" ;;
	esac
done
[ "$NCUST" -ge 10 ] || die "BENCH_PG_CUSTOMERS must be at least 10"
[ "$NAGENTS" -ge 2 ] || die "BENCH_PG_AGENTS must be at least 2"
[ "$NCUST" -le 99999999 ] || die "BENCH_PG_CUSTOMERS at most 99999999"
if [ "$CLIENTS" -lt 1 ] || [ "$THREADS" -lt 1 ] || [ "$SECS" -lt 1 ] ||
    [ "$JOBS" -lt 1 ]; then
	die "clients, threads, seconds and load jobs must be at least 1"
fi
[ "$THREADS" -le "$CLIENTS" ] || THREADS=$CLIENTS
case $AUDIT in
*[!a-z,-]*) die "BENCH_PG_AUDIT: pgaudit.log classes only, got '$AUDIT'" ;;
esac

case $PGPOPTS in
*[!a-z0-9=,\ -]*) die "BENCH_PG_PGP_OPTIONS: pgp_sym_encrypt options only" ;;
esac
# For the summary line: the options without blanks, '=' as ':'.
pgp=$(printf '%s' "$PGPOPTS" | tr -d ' ' | tr '=' ':')
pgp=${pgp:-default}

for t in initdb pg_ctl postgres psql pgbench; do
	[ -x "$PGBIN/$t" ] || die "$PGBIN/$t missing (tools/deps.sh --bench)"
done
for f in pgaudit.so pgcrypto.so; do
	[ -f "$("$PGBIN/pg_config" --pkglibdir)/$f" ] ||
	    die "$f missing (tools/deps.sh --bench installs" \
	    "postgresql-contrib and postgresql-15-pgaudit)"
done

# The server refuses to run as root: as root, run it (initdb, pg_ctl) as
# $OSUSER.  Clients (psql, pgbench) run as the caller.
runas=""
if [ "$(id -u)" -eq 0 ]; then
	command -v runuser >/dev/null 2>&1 || die "runuser missing"
	if ! id "$OSUSER" >/dev/null 2>&1; then
		say "creating system user $OSUSER to run the server"
		useradd --system --no-create-home --home-dir /nonexistent \
		    --shell /usr/sbin/nologin "$OSUSER"
	fi
	runas=$OSUSER
fi

work=$(mktemp -d "$TMPBASE/vigil-pgbench.XXXXXX")
D=$work/data
SOCK=$work/sock
started=0

cleanup() {
	rc=$?
	trap - EXIT INT TERM
	if [ "$started" = 1 ]; then
		if [ "$rc" -ne 0 ] && [ -f "$D/log/postgresql.log" ]; then
			say "server log (last 30 lines, pgaudit lines left out):"
			awk '/ AUDIT: / { a = 1; next } a && /^\t/ { next }
			    { a = 0; print }' "$D/log/postgresql.log" |
			    tail -n 30 >&2 || true
		fi
		pg stop -m fast -w -t 30 >/dev/null 2>&1 ||
		    pg stop -m immediate -w -t 30 >/dev/null 2>&1 || true
	fi
	if [ "${BENCH_PG_KEEP:-0}" = 1 ]; then
		say "kept $work (BENCH_PG_KEEP=1)"
	else
		rm -rf "$work"
	fi
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# pg ARGS: pg_ctl on the cluster as the server's user.
pg() {
	if [ -n "$runas" ]; then
		(cd "$work" && runuser -u "$runas" -- "$PGBIN/pg_ctl" -D "$D" "$@")
	else
		"$PGBIN/pg_ctl" -D "$D" "$@"
	fi
}

mkdir -p "$SOCK" "$work/tx"
if [ -n "$runas" ]; then
	chown "$runas" "$work" "$SOCK"
fi
chmod 700 "$work" "$SOCK"
if [ -n "$runas" ] && ! runuser -u "$runas" -- test -w "$work"; then
	die "$runas cannot reach $work: choose a BENCH_PG_TMPDIR it can"
fi

fstype=$(stat -f -c %T "$work")
case $fstype in
tmpfs | ramfs | overlay*)
	say "WARNING: $work is on $fstype: fsync does not reach a disk;" \
	    "set BENCH_PG_TMPDIR to a directory on the disk vigil uses" ;;
esac

say "initdb in $work (server runs as ${runas:-$(id -un)})"
if [ -n "$runas" ]; then
	(cd "$work" && runuser -u "$runas" -- "$PGBIN/initdb" -D "$D" \
	    -U "$ADMIN" --auth-local=trust --auth-host=scram-sha-256 \
	    --no-locale -E UTF8 --no-sync --no-instructions) >"$work/initdb.log" 2>&1 ||
	    { cat "$work/initdb.log" >&2; die "initdb"; }
else
	"$PGBIN/initdb" -D "$D" -U "$ADMIN" --auth-local=trust \
	    --auth-host=scram-sha-256 --no-locale -E UTF8 --no-sync \
	    --no-instructions >"$work/initdb.log" 2>&1 ||
	    { cat "$work/initdb.log" >&2; die "initdb"; }
fi

if [ "$TCP" = 1 ]; then
	PORT=$(python3 -c 'import socket
s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
	LISTEN=127.0.0.1
	HOST=127.0.0.1
	transport=tcp
else
	PORT=5432 # in a private socket directory: no clash
	LISTEN=
	HOST=$SOCK
	transport=unix
fi
if [ "$AUDIT" = none ]; then
	AUDITCONF="pgaudit.log = 'none'"
else
	AUDITCONF="pgaudit.log = '$AUDIT'"
fi

# Durability as vigil's audit log: fsync on, every commit waits for its
# WAL flush (PostgreSQL groups concurrent commits into one flush).
cat >>"$D/postgresql.conf" <<CONF

# --- bench/pg/run.sh ---
listen_addresses = '$LISTEN'
port = $PORT
unix_socket_directories = '$SOCK'
max_connections = $((CLIENTS + 16))
shared_buffers = $SHBUF
fsync = on
synchronous_commit = on
full_page_writes = on
shared_preload_libraries = 'pgaudit'
$AUDITCONF
pgaudit.log_parameter = on
logging_collector = on
log_directory = 'log'
log_filename = 'postgresql.log'
log_rotation_age = 0
log_rotation_size = 0
CONF

say "starting postgres ($transport${LISTEN:+ $LISTEN:$PORT})"
started=1
pg -l "$work/pg_ctl.log" -w -t 60 start >/dev/null 2>&1 || {
	cat "$work/pg_ctl.log" >&2 || true
	die "postgres did not start"
}

# psql as the administrator (superuser, owner of the tables) or as the
# application role.  The data key reaches the server as a session
# setting, app.key, sent at connection start (PGOPTIONS), the way an
# application's connection pool would set it; it is never in SQL text,
# so it is not in pgaudit's log.
KEY=$(od -An -tx1 -N32 /dev/urandom | tr -d ' \n')
APPPW=$(od -An -tx1 -N16 /dev/urandom | tr -d ' \n')
admin() {
	PGOPTIONS="-c app.key=$KEY" "$PGBIN/psql" -X -q -v ON_ERROR_STOP=1 \
	    -h "$SOCK" -p "$PORT" -U "$ADMIN" "$@"
}
app() {
	PGOPTIONS="-c app.key=$KEY" PGPASSWORD=$APPPW "$PGBIN/psql" -X -q \
	    -v ON_ERROR_STOP=1 -h "$HOST" -p "$PORT" -U app -d "$DB" "$@"
}

for s in fsync synchronous_commit full_page_writes shared_preload_libraries; do
	v=$(admin -d postgres -At -c "SHOW $s")
	case $s=$v in
	fsync=on | synchronous_commit=on | full_page_writes=on) ;;
	shared_preload_libraries=pgaudit) ;;
	*) die "server has $s=$v" ;;
	esac
done

say "schema, roles and row-level security"
admin -d postgres -c "CREATE DATABASE $DB"
admin -d "$DB" <<SQL
CREATE EXTENSION pgcrypto;
CREATE EXTENSION pgaudit;

-- The application's role: not a superuser, not BYPASSRLS, owns nothing,
-- so row-level security applies to it.
CREATE ROLE app LOGIN PASSWORD '$APPPW';

-- Every personal field encrypted on its own with pgp_sym_encrypt
-- (OpenPGP, AES-128, iterated salted S2K, SHA-1 MDC: pgcrypto's defaults).
CREATE TABLE customers (
	id		bigint PRIMARY KEY,
	name		bytea NOT NULL,
	phone		bytea NOT NULL,
	email		bytea NOT NULL,
	account_id	bytea NOT NULL
);

CREATE TABLE cases (
	id		text PRIMARY KEY,
	customer_id	bigint NOT NULL REFERENCES customers (id),
	assignee	text NOT NULL,
	state		text NOT NULL CHECK (state IN ('open', 'closed'))
);
CREATE INDEX cases_customer ON cases (customer_id);

-- One row per reveal, written in the reveal's transaction: the durable
-- audit record.  The application may insert, not change or delete.
CREATE TABLE access_log (
	id		bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	at		timestamptz NOT NULL DEFAULT now(),
	principal	text NOT NULL,
	customer_id	bigint NOT NULL,
	fields		text NOT NULL,
	purpose		text NOT NULL,
	case_id		text,
	decision	text NOT NULL
);

GRANT SELECT ON customers, cases TO app;
GRANT INSERT ON access_log TO app;

-- A row of customers is visible only within a transaction that names
-- (app.case) an open case for that customer assigned to the caller
-- (app.principal).  Unset settings read as NULL: no rows.
ALTER TABLE customers ENABLE ROW LEVEL SECURITY;
CREATE POLICY reveal_with_case ON customers FOR SELECT TO app
USING (EXISTS (
	SELECT 1 FROM cases k
	WHERE k.id = current_setting('app.case', true)
	  AND k.customer_id = customers.id
	  AND k.assignee = current_setting('app.principal', true)
	  AND k.state = 'open'));
SQL

say "loading $NCUST customers (4 pgp_sym_encrypt fields each," \
    "options '$PGPOPTS', $JOBS sessions)"
t0=$(date +%s)
pids=""
j=0
while [ "$j" -lt "$JOBS" ]; do
	lo=$((j * NCUST / JOBS + 1))
	hi=$(((j + 1) * NCUST / JOBS))
	admin -d "$DB" -c "INSERT INTO customers
	    SELECT i,
	        pgp_sym_encrypt('Customer ' || i, k, o),
	        pgp_sym_encrypt('+86138' || lpad(i::text, 8, '0'), k, o),
	        pgp_sym_encrypt('customer' || i || '@example.com', k, o),
	        pgp_sym_encrypt('ACC' || lpad(i::text, 10, '0'), k, o)
	    FROM (SELECT current_setting('app.key') AS k,
	        '$PGPOPTS'::text AS o) AS s,
	        generate_series($lo, $hi) AS i" &
	pids="$pids $!"
	j=$((j + 1))
done
for p in $pids; do
	wait "$p" || die "loading customers"
done

# Customer i has open case case_i assigned to agent_(1 + i % AGENTS): the
# load generator derives the assignee from the id it draws.  CHK also has
# a closed case, case_closed, assigned to another agent.
CHK=$((NCUST / 2))
AG=$((1 + CHK % NAGENTS))
OTHER=$((1 + (CHK + 1) % NAGENTS))
admin -d "$DB" <<SQL
INSERT INTO cases
    SELECT 'case_' || i, i, 'agent_' || (1 + i % $NAGENTS), 'open'
    FROM generate_series(1, $NCUST) AS i;
INSERT INTO cases VALUES ('case_closed', $CHK, 'agent_$OTHER', 'closed');
VACUUM ANALYZE;
CHECKPOINT;
SQL
say "loaded in $(($(date +%s) - t0)) s"

# reveal PRINCIPAL CASE ID: what the application does for one reveal,
# printing "row:<phone>" per row returned (none when RLS hides the row).
reveal() {
	app -At <<SQL
BEGIN;
SELECT set_config('app.principal', '$1', true),
    set_config('app.case', '$2', true) \\g /dev/null
SELECT 'row:' || pgp_sym_decrypt(phone, current_setting('app.key')) FROM customers WHERE id = $3;
COMMIT;
SQL
}

say "checks: row-level security, access_log, pgaudit"
want="row:+86138$(printf '%08d' "$CHK")"
got=$(reveal "agent_$AG" "case_$CHK" "$CHK")
[ "$got" = "$want" ] ||
    die "assignee with open case: got '$got', want '$want'"
got=$(reveal "agent_$OTHER" "case_$CHK" "$CHK")
[ -z "$got" ] || die "agent without the case sees the customer: '$got'"
got=$(reveal "agent_$OTHER" case_closed "$CHK")
[ -z "$got" ] || die "closed case still reveals: '$got'"
got=$(reveal "agent_$AG" "case_$((CHK + 1))" "$CHK")
[ -z "$got" ] || die "case of another customer reveals: '$got'"
got=$(app -At -c "SELECT 'row:' || pgp_sym_decrypt(phone, current_setting('app.key')) FROM customers WHERE id = $CHK")
[ -z "$got" ] || die "no principal, no case, still reveals: '$got'"
got=$(app -At -c "SELECT count(*) FROM customers")
[ "$got" = 0 ] || die "app sees $got customers without a case"
got=$(admin -d "$DB" -At -c "SELECT count(*) FROM customers
    WHERE position(convert_to('+86138', 'UTF8') IN phone) > 0
       OR position(convert_to('@example.com', 'UTF8') IN email) > 0")
[ "$got" = 0 ] || die "$got customers stored with a clear phone or email"
got=$(admin -d "$DB" -At -c "SELECT rolsuper OR rolbypassrls
    FROM pg_roles WHERE rolname = 'app'")
[ "$got" = f ] || die "role app is a superuser or bypasses RLS"
if app -c "DELETE FROM access_log" >/dev/null 2>&1; then
	die "app may delete from access_log"
fi
# One full reveal as the load generator runs it; its audit row is durable
# when COMMIT returns.
app -At >/dev/null <<SQL
BEGIN;
SELECT set_config('app.principal', 'agent_$AG', true),
    set_config('app.case', 'case_$CHK', true);
SELECT pgp_sym_decrypt(phone, current_setting('app.key')) FROM customers WHERE id = $CHK;
INSERT INTO access_log (principal, customer_id, fields, purpose, case_id,
        decision)
    VALUES (current_setting('app.principal'), $CHK, 'phone', 'support',
        current_setting('app.case'), 'allow');
COMMIT;
SQL
got=$(admin -d "$DB" -At -c "SELECT count(*) FROM access_log
    WHERE principal = 'agent_$AG' AND customer_id = $CHK
      AND case_id = 'case_$CHK'")
[ "$got" = 1 ] || die "access_log has $got rows for the reveal, want 1"

LOG=$D/log/postgresql.log
# audit_lines: pgaudit's lines for reads of customers by the app so far.
audit_lines() {
	grep -c 'AUDIT: SESSION,[0-9]*,[0-9]*,READ,SELECT,.*FROM customers' \
	    "$LOG" || true
}
if [ "$AUDIT" != none ]; then
	i=0
	until [ "$(audit_lines)" -ge 6 ]; do
		i=$((i + 1))
		[ $i -le 50 ] || die "pgaudit: $(audit_lines) lines for the" \
		    "6 reads of customers above, want 6 (log: $LOG)"
		sleep 0.1
	done
	say "pgaudit: $(audit_lines) READ lines for the checks; e.g." \
	    "$(grep -m 1 'AUDIT: SESSION.*pgp_sym_decrypt' "$LOG" | cut -c 1-240)"
fi
say "checks passed"

# The reveal, as pgbench runs it: the caller's principal and the case
# from the request, the decrypt of one field under RLS (\gset fails the
# transaction, and pgbench the run, unless exactly one row comes back),
# the audit row, commit.
cat >"$work/reveal.sql" <<'SQL'
\set id random(1, :ncust)
\set agent 1 + :id % :nagents
BEGIN;
SELECT set_config('app.principal', 'agent_' || :agent, true),
    set_config('app.case', 'case_' || :id, true);
SELECT pgp_sym_decrypt(phone, current_setting('app.key')) AS phone FROM customers WHERE id = :id \gset
INSERT INTO access_log (principal, customer_id, fields, purpose, case_id,
        decision)
    VALUES (current_setting('app.principal'), :id, 'phone', 'support',
        current_setting('app.case'), 'allow');
COMMIT;
SQL

# bench SECONDS [pgbench options]: one pgbench run as the app.
bench() {
	s=$1
	shift
	PGOPTIONS="-c app.key=$KEY" PGPASSWORD=$APPPW "$PGBIN/pgbench" -n \
	    -M prepared -h "$HOST" -p "$PORT" -U app -c "$CLIENTS" \
	    -j "$THREADS" -T "$s" -D ncust="$NCUST" -D nagents="$NAGENTS" \
	    -f "$work/reveal.sql" "$@" "$DB"
}

if [ "$WARM" -gt 0 ]; then
	say "warm-up ${WARM}s"
	bench "$WARM" >"$work/warm.out" 2>&1 ||
	    { cat "$work/warm.out" >&2; die "pgbench warm-up"; }
fi

rows0=$(admin -d "$DB" -At -c "SELECT count(*) FROM access_log")
lines0=$(audit_lines)
logbytes0=$(wc -c <"$LOG")
say "pgbench -c $CLIENTS -j $THREADS -T $SECS -M prepared ($transport," \
    "pgaudit.log=$AUDIT); load average $(cut -d' ' -f1-3 /proc/loadavg)"
bench "$SECS" -l --log-prefix="$work/tx/log" >"$work/run.out" 2>&1 || {
	cat "$work/run.out" >&2
	die "pgbench"
}
sed 's/^/pg-bench: | /' "$work/run.out" >&2

xacts=$(awk -F': ' '/^number of transactions actually processed/ {
    split($2, a, "/"); print a[1] }' "$work/run.out")
failed=$(awk -F': ' '/^number of failed transactions/ {
    split($2, a, " "); print a[1] }' "$work/run.out")
failed=${failed:-0}
tps=$(awk '/^tps = / { printf "%.1f", $3 }' "$work/run.out")
if [ -z "$xacts" ] || [ -z "$tps" ]; then
	die "cannot read pgbench's report"
fi
[ "$xacts" -gt 0 ] || die "no transactions"
[ "$failed" = 0 ] || die "$failed failed transactions"

# Every reveal pgbench counted committed its access_log row, and pgaudit
# logged its read.
rows=$(($(admin -d "$DB" -At -c "SELECT count(*) FROM access_log") - rows0))
if [ "$rows" -lt "$xacts" ] || [ "$rows" -gt $((xacts + CLIENTS)) ]; then
	die "$rows access_log rows for $xacts reveals"
fi
say "access_log: $rows rows committed for $xacts reveals counted"
if [ "$AUDIT" != none ]; then
	sleep 0.5
	lines=$(($(audit_lines) - lines0))
	[ "$lines" -ge "$xacts" ] ||
	    die "$lines pgaudit lines for $xacts reveals"
	logbytes=$(($(wc -c <"$LOG") - logbytes0))
	say "pgaudit: $lines lines of customer reads for the run; the" \
	    "server log grew by $logbytes bytes"
fi

# Latency of each transaction (µs, third field of pgbench's -l log):
# mean, and p50 and p99 by nearest rank.
cat "$work"/tx/log.* | awk '$3 ~ /^[0-9]+$/ { print $3 }' | sort -n \
    >"$work/lat"
n=$(wc -l <"$work/lat")
[ "$n" -ge "$xacts" ] || die "pgbench log has $n latencies for $xacts reveals"
lat=$(awk -v n="$n" 'BEGIN { i50 = int((n * 50 + 99) / 100)
	i99 = int((n * 99 + 99) / 100) }
    NR == i50 { p50 = $1 } NR == i99 { p99 = $1 } { s += $1 }
    END { printf "%.3f %.3f %.3f", s / NR / 1000, p50 / 1000, p99 / 1000 }' \
    "$work/lat")
# shellcheck disable=SC2086 # three numbers, split on purpose
set -- $lat
echo "pg_reveal clients=$CLIENTS threads=$THREADS seconds=$SECS" \
    "customers=$NCUST xacts=$xacts tps=$tps lat_avg_ms=$1 p50_ms=$2" \
    "p99_ms=$3 failed=$failed audit=$AUDIT transport=$transport pgp=$pgp"
