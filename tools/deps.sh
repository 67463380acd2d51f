#!/bin/sh
# Install the system packages vigil needs to build, test and fuzz, and
# nothing else.  Runs apt-get only when something is missing, so it is
# cheap to call from every make target and from CI.
#
# Usage: tools/deps.sh [--check]   (--check: report only, exit 1 if missing)
set -eu

PKGS="build-essential pkg-config libsodium-dev libsqlite3-dev sqlite3 \
libjansson-dev libmicrohttpd-dev libssl-dev libcurl4-openssl-dev python3 \
clang libclang-rt-dev llvm libevent-dev libh2o-evloop-dev wrk curl \
libyaml-dev tzdata openssl"

# The benchmark baseline (bench/pg): PostgreSQL with pgcrypto, row-level
# security and pgaudit.  Only `make bench` asks for these.
if [ "${1:-}" = "--bench" ]; then
	shift
	PKGS="$PKGS postgresql postgresql-contrib postgresql-15-pgaudit time"
fi

missing=""
for p in $PKGS; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null |
	    grep -q "install ok installed"; then
		missing="$missing $p"
	fi
done

if [ -z "$missing" ]; then
	exit 0
fi
if [ "${1:-}" = "--check" ]; then
	echo "missing packages:$missing" >&2
	exit 1
fi

echo "deps: installing$missing" >&2
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
	if command -v sudo >/dev/null 2>&1; then
		SUDO="sudo"
	else
		echo "deps: need root (or sudo) to install:$missing" >&2
		exit 1
	fi
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing
