#!/bin/sh
# vigil CLI basics: help, version, exit statuses 0/1/2, errors on stderr
# prefixed "vigil <cmd>:", results on stdout.
. "$(dirname "$0")/lib.sh"

# --- help and version ------------------------------------------------
vg help
exit_is 0 "vigil help exits 0"
has "$OUT" "usage: vigil COMMAND" "vigil help prints the overview on stdout"
missing=""
for c in init import lookup show stats keys pseudonym gen-customers help \
    version; do
	printf '%s\n' "$OUT" | grep -Eq "^  $c " || missing="$missing $c"
done
is "$missing" "" "overview lists every command"
has "$OUT" "0 success, 1 usage error, 2 data or runtime error" \
    "overview documents the exit statuses"
is "$ERR" "" "vigil help writes nothing to stderr"

vg --help
exit_is 0 "vigil --help exits 0"
has "$OUT" "usage: vigil COMMAND" "vigil --help prints the overview on stdout"

vg
exit_is 1 "vigil without a command exits 1"
is "$OUT" "" "vigil without a command writes nothing to stdout"
has "$ERR" "usage: vigil COMMAND" "vigil without a command shows usage on stderr"

vg help import
exit_is 0 "vigil help import exits 0"
like "$OUT" '^usage: vigil import DIR FILE\.csv' "help import starts with its usage line"
has "$OUT" "--skip-bad" "help import documents --skip-bad"
help_import=$OUT

vg import --help
exit_is 0 "vigil import --help exits 0"
is "$OUT" "$help_import" "vigil import --help equals vigil help import"
is "$ERR" "" "vigil import --help writes nothing to stderr"

vg lookup -h
exit_is 0 "vigil lookup -h exits 0"
like "$OUT" '^usage: vigil lookup DIR' "vigil lookup -h prints lookup's usage"

bad=""
for c in init import lookup show stats keys pseudonym gen-customers help \
    version; do
	vg help "$c"
	[ "$RC" = 0 ] && printf '%s\n' "$OUT" | head -n 1 |
	    grep -q "^usage: vigil $c" || bad="$bad $c"
done
is "$bad" "" "vigil help COMMAND prints each command's usage"

vg help no-such-command
exit_is 1 "vigil help with an unknown command exits 1"
like "$ERR" "^vigil help: .*no-such-command" "and says so on stderr"
is "$OUT" "" "and writes nothing to stdout"

vg version
exit_is 0 "vigil version exits 0"
like "$OUT" '^vigil [0-9]+\.[0-9]+\.[0-9]+' "vigil version prints 'vigil X.Y.Z'"
is "$(printf '%s\n' "$OUT" | wc -l | tr -d ' ')" 1 "vigil version prints one line"
version=$OUT
vg --version
exit_is 0 "vigil --version exits 0"
is "$OUT" "$version" "vigil --version equals vigil version"

# --- unknown command ---------------------------------------------------
vg frobnicate
exit_is 1 "unknown command exits 1"
has "$ERR" "frobnicate" "unknown command is named on stderr"
has "$ERR" "vigil help" "unknown command points at vigil help"
is "$OUT" "" "unknown command writes nothing to stdout"

# --- usage errors: exit 1, "vigil CMD:" on stderr, nothing on stdout ----
"$VIGIL" init v >/dev/null 2>&1 || bail "vigil init failed"
"$VIGIL" gen-customers --count 3 --seed 1 --out c.csv || bail "gen failed"

# usage_case DESC CMD ARGS...: expects status 1 and a "vigil CMD:" error.
usage_case() {
	_desc=$1
	shift
	vg "$@"
	exit_is 1 "$_desc: exit 1"
	like "$ERR" "^vigil $1: " "$_desc: stderr has 'vigil $1:'"
	is "$OUT" "" "$_desc: nothing on stdout"
}

usage_case "init without a dir" init
usage_case "init with two dirs" init a b
usage_case "init unknown option" init --bogus v2
usage_case "import without args" import
usage_case "import with only a dir" import v
usage_case "import unknown option" import v c.csv --bogus
usage_case "lookup without selector" lookup v
usage_case "lookup with two selectors" lookup v --phone 13800138000 \
    --email a@b.cn
usage_case "lookup --field without =" lookup v --field phone
usage_case "lookup without a dir" lookup --phone 13800138000
usage_case "lookup --phone without a value" lookup v --phone
usage_case "show without an id" show v
usage_case "show with a malformed id" show v cus_nope
usage_case "stats without a dir" stats
usage_case "stats unknown option" stats v --bogus
usage_case "keys without subcommand" keys
usage_case "keys unknown subcommand" keys spin v
usage_case "keys rotate without a dir" keys rotate
usage_case "keys rewrap --batch 0" keys rewrap v --batch 0
usage_case "keys rewrap --batch x" keys rewrap v --batch x
usage_case "keys rotate --batch" keys rotate v --batch 3
usage_case "pseudonym without --consumer" pseudonym v cus_aaaaaaaaaaaaaaaaaaaaaaaaaa
usage_case "pseudonym without ids" pseudonym v --consumer crm
usage_case "gen-customers without --count" gen-customers
usage_case "gen-customers --count x" gen-customers --count x
usage_case "gen-customers --count -1" gen-customers --count -1
usage_case "gen-customers extra argument" gen-customers --count 1 extra
usage_case "gen-customers --seed too big" gen-customers --count 1 \
    --seed 18446744073709551616

# getopt's own complaint must follow the "vigil CMD:" convention too.
vg init --bogus v2
unlike "$ERR" '^(init|lookup): ' "unknown option: every stderr line is 'vigil init:' or usage"
vg lookup v --phone
unlike "$ERR" '^lookup: ' "missing option value: no bare 'lookup:' line"

# A mistyped --opt=VALUE must not echo the value (it may be a phone).
vg lookup v --fone=13800138000
exit_is 1 "mistyped --fone=VALUE: usage error"
has "$ERR" "unknown option '--fone'" "names the option"
lacks "$ERR" "13800138000" "but never echoes its value"

# --- data errors: exit 2 -----------------------------------------------
vg stats nonexistent
exit_is 2 "stats on a missing dir exits 2"
like "$ERR" "^vigil stats: .*not a vigil vault" "and says it is not a vault"
is "$OUT" "" "and writes nothing to stdout"

vg import v missing.csv
exit_is 2 "import of a missing file exits 2"
like "$ERR" "^vigil import: .*missing\.csv" "and names the file"

vg lookup v --phone 13800138000
exit_is 2 "a lookup miss exits 2"
like "$ERR" "^vigil lookup: no customer matches" "a miss says no customer matches"
is "$OUT" "" "a miss prints nothing on stdout"

# --- results go to stdout, stderr stays quiet --------------------------
vg import v c.csv
exit_is 0 "import of a good file exits 0"
like "$OUT" '^imported 3 customers' "import reports its count on stdout"
is "$ERR" "" "a successful import writes nothing to stderr (not a tty)"

vg stats v
exit_is 0 "stats exits 0"
like "$OUT" '^customers +3$' "stats shows the count on stdout"
is "$ERR" "" "stats writes nothing to stderr"

vg stats v --json
exit_is 0 "stats --json exits 0"
is "$(printf '%s' "$OUT" | json 'd["customers"]')" 3 "stats --json parses and counts 3"

done_testing
