#!/bin/sh
# vigil init: modes, refusing non-empty dirs, VIGIL_MASTER_KEY, wrong or
# exposed master keys, directories that are not vaults.
. "$(dirname "$0")/lib.sh"

"$VIGIL" gen-customers --count 5 --seed 2 --out c.csv || bail "gen failed"

# --- a fresh vault -------------------------------------------------------
vg init v
exit_is 0 "init of a new dir exits 0"
like "$OUT" "^created vault v " "init reports the vault on stdout"
has "$OUT" "master.key" "init says where the master key is"
is "$ERR" "" "init writes nothing to stderr"
mode_is v drwx------ "vault dir is 0700"
mode_is v/master.key -rw------- "master.key is 0600"
mode_is v/vigil.db -rw------- "vigil.db is 0600"
like "$(cat v/master.key)" '^[A-Za-z0-9+/]{43}=$' "master.key holds base64 of 32 bytes"
vg stats v --json
exit_is 0 "the new vault opens"
is "$(printf '%s' "$OUT" | json 'd["customers"], d["master_key_source"], d["current_epoch"]')" \
    "(0, 'file', 1)" "new vault: 0 customers, key from file, epoch 1"

# Modes do not depend on the caller's umask.
(umask 000 && "$VIGIL" init vu >/dev/null 2>&1)
mode_is vu drwx------ "with umask 000 the vault dir is still 0700"
mode_is vu/master.key -rw------- "with umask 000 master.key is still 0600"
mode_is vu/vigil.db -rw------- "with umask 000 vigil.db is still 0600"
(umask 000 && "$VIGIL" import vu c.csv >/dev/null 2>&1)
bad=""
for f in $(find vu -type f); do
	[ "$(mode_of "$f")" = -rw------- ] || bad="$bad $f:$(mode_of "$f")"
done
for d in $(find vu -type d); do
	[ "$(mode_of "$d")" = drwx------ ] || bad="$bad $d:$(mode_of "$d")"
done
is "$bad" "" "after an import under umask 000 every vault file is 0600, every directory 0700"

# An existing empty dir is fine.
mkdir empty
vg init empty
exit_is 0 "init of an existing empty dir exits 0"
check "it holds a vault" test -f empty/vigil.db

# --- refusing to overwrite -------------------------------------------------
mkdir full
echo "keep me" >full/notes.txt
vg init full
exit_is 2 "init of a non-empty dir exits 2"
like "$ERR" "^vigil init: .*not empty" "and says the dir is not empty"
is "$OUT" "" "and prints nothing on stdout"
is "$(cat full/notes.txt)" "keep me" "the existing file is untouched"
is "$(ls -A full)" "notes.txt" "no file was added to the non-empty dir"

mkdir dot
: >dot/.hidden
vg init dot
exit_is 2 "a dir holding only a dotfile counts as non-empty"

cp v/master.key key.before
vg init v
exit_is 2 "init over an existing vault exits 2"
check "the existing master.key is untouched" cmp -s key.before v/master.key
vg stats v
exit_is 0 "the existing vault still opens"

echo data >plainfile
vg init plainfile
exit_is 2 "init on a regular file exits 2"
is "$(cat plainfile)" "data" "the regular file is untouched"

vg init nope/deeper/v
exit_is 2 "init under a missing parent exits 2"
like "$ERR" "^vigil init: " "with a vigil init: message"

# --- master key from the environment -----------------------------------
K=$(new_key)
run env VIGIL_MASTER_KEY="$K" "$VIGIL" init ve
exit_is 0 "init with VIGIL_MASTER_KEY exits 0"
has "$OUT" "VIGIL_MASTER_KEY" "init says the key came from the environment"
check "no master.key is written" test ! -e ve/master.key
check "vigil.db is written" test -f ve/vigil.db
if grep -rqaF -- "$K" ve; then
	not_ok "the env key appears in no vault file"
else
	ok "the env key appears in no vault file"
fi

vg stats ve
exit_is 2 "without the env key the vault does not open (exit 2)"
has "$ERR" "VIGIL_MASTER_KEY" "the error says to set VIGIL_MASTER_KEY"
lacks "$ERR" "$K" "the error does not print the key"

run env VIGIL_MASTER_KEY="$K" "$VIGIL" import ve c.csv
exit_is 0 "with the env key, import works"
run env VIGIL_MASTER_KEY="$K" "$VIGIL" stats ve --json
exit_is 0 "with the env key, stats works"
is "$(printf '%s' "$OUT" | json 'd["customers"], d["master_key_source"]')" \
    "(5, 'environment')" "stats shows 5 customers and key source environment"
phone=$(sed -n 2p c.csv | cut -d, -f2)
run env VIGIL_MASTER_KEY="$K" "$VIGIL" lookup ve --phone "$phone"
exit_is 0 "with the env key, lookup works"
vg lookup ve --phone "$phone"
exit_is 2 "without the env key, lookup fails with 2"

run env VIGIL_MASTER_KEY="$K
" "$VIGIL" stats ve
exit_is 0 "the env key with a trailing newline is accepted"

run env VIGIL_MASTER_KEY="$(new_key)" "$VIGIL" stats ve
exit_is 2 "another env key exits 2"
has "$ERR" "master key does not match this vault" "and says the key does not match"

# Malformed env keys.
for bad in "abc" "$(head -c 31 /dev/urandom | base64)" \
    "$(head -c 33 /dev/urandom | base64)" "!!!notbase64!!!"; do
	rm -rf vb
	run env VIGIL_MASTER_KEY="$bad" "$VIGIL" init vb
	[ "$RC" = 2 ] && [ ! -e vb ] &&
	    printf '%s\n' "$ERR" | grep -q "^vigil init: VIGIL_MASTER_KEY" ||
	    not_ok "init with malformed key '$bad' exits 2, leaves no dir" \
	    "rc=$RC" "$ERR"
done
ok "init with a malformed env key (3 bytes, 31, 33, non-base64) exits 2, creates nothing"
run env VIGIL_MASTER_KEY="abc" "$VIGIL" stats ve
exit_is 2 "stats with a malformed env key exits 2"
like "$ERR" "^vigil stats: .*VIGIL_MASTER_KEY" "and names VIGIL_MASTER_KEY"
lacks "$ERR" "abc" "and does not echo the bad key"

# --- wrong master key file ---------------------------------------------------
"$VIGIL" init other >/dev/null 2>&1 || bail "init other failed"
cp other/master.key v/master.key
vg stats v
exit_is 2 "another vault's master.key exits 2"
has "$ERR" "master key does not match this vault" "and says the key does not match"
lacks "$ERR" "$(cat other/master.key)" "and does not print the key"
vg import v c.csv
exit_is 2 "import with the wrong master.key exits 2"
cp key.before v/master.key
chmod 600 v/master.key
vg stats v
exit_is 0 "with its own key back the vault opens"

run env VIGIL_MASTER_KEY="$(cat v/master.key)" "$VIGIL" stats v --json
exit_is 0 "a file vault opens with its own key given in the environment"
is "$(printf '%s' "$OUT" | json 'd["master_key_source"]')" environment \
    "and the key source is then the environment"
run env VIGIL_MASTER_KEY="$(new_key)" "$VIGIL" stats v
exit_is 2 "the environment key wins over master.key: another key fails"

# --- exposed or missing master.key -------------------------------------
chmod 644 v/master.key
vg stats v
exit_is 2 "master.key mode 0644 is refused (exit 2)"
has "$ERR" "chmod 600" "and the message names chmod 600"
chmod 640 v/master.key
vg stats v
exit_is 2 "master.key mode 0640 is refused too"
chmod 600 v/master.key
vg stats v
exit_is 0 "after chmod 600 the vault opens"

mv v/master.key key.moved
vg stats v
exit_is 2 "a vault without master.key exits 2"
has "$ERR" "master.key" "and names master.key"
mv key.moved v/master.key

cp v/master.key key.keep
echo "not-base64" >v/master.key
chmod 600 v/master.key
vg stats v
exit_is 2 "a malformed master.key exits 2"
like "$ERR" "^vigil stats: .*malformed" "and says it is malformed"
head -c 300 /dev/urandom | base64 >v/master.key
chmod 600 v/master.key
vg stats v
exit_is 2 "an oversized master.key exits 2"
lacks "$ERR" "No such file or directory" "and the reason is not a stale errno"
cp key.keep v/master.key

# --- not a vault -------------------------------------------------------------
mkdir notvault
vg stats notvault
exit_is 2 "an empty dir is not a vault (exit 2)"
like "$ERR" "^vigil stats: 'notvault' is not a vigil vault" "with a clear message"
mkdir junk
echo "garbage, not sqlite" >junk/vigil.db
cp v/master.key junk/master.key
vg stats junk
exit_is 2 "a dir with a junk vigil.db exits 2"
like "$ERR" "not a vigil vault" "and says it is not a vigil vault"
vg lookup notvault --phone 13800138000
exit_is 2 "lookup on a non-vault exits 2"
lacks "$ERR" "no customer matches" "and does not pretend it was a miss"
vg import notvault c.csv
exit_is 2 "import into a non-vault exits 2"
check "and creates no database there" test ! -e notvault/vigil.db

done_testing
