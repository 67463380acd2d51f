#!/bin/sh
# Source rules (tools/checksrc.sh): banned functions, SPDX headers,
# prepared statements only.
exec sh "${ROOT:-$(dirname "$0")/../..}/tools/checksrc.sh"
