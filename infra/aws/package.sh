#!/usr/bin/env bash
# Makes the Lambda code package in infra/aws/build/lambda/:
#
#   bootstrap      this directory's bootstrap script (runs `updraft lambda [--http]`)
#   updraft        the release binary
#   updraft.yaml   your configuration (UPDRAFT_CONFIG=/var/task/updraft.yaml)
#   ...            anything given with --include (plugins the config names)
#
# and refuses a binary that cannot start on provided.al2023: it must be an
# x86-64 ELF, need glibc 2.34 or older, and link no shared library that the
# runtime image may lack (OpenSSL, zlib: link them statically, README.md).
#
#   infra/aws/package.sh --config updraft.yaml [--binary PATH] [--include plugins] [--build]
#
# --build builds the binary first (README.md, "Build"): with cargo-zigbuild
# when it is installed (glibc 2.28 symbols), else with plain cargo.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
out="$here/build/lambda"
max_glibc="2.34" # Amazon Linux 2023

binary="${UPDRAFT_BIN:-}"
config=""
build=false
includes=()
while [ $# -gt 0 ]; do
    case "$1" in
    --binary) binary="$2"; shift 2 ;;
    --config) config="$2"; shift 2 ;;
    --include) includes+=("$2"); shift 2 ;;
    --build) build=true; shift ;;
    -h | --help) sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "package.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
    esac
done

# shellcheck source=infra/package-lib.sh
. "$repo/infra/package-lib.sh"

if $build; then
    build_release
fi

find_binary

# --- can it start on provided.al2023? ---------------------------------------
check_binary "provided.al2023" "$max_glibc"

# --- the package --------------------------------------------------------------
copy_package "$out"
install -m 0755 "$here/bootstrap" "$out/bootstrap"
say "package: $out ($(du -sh "$out" | cut -f1)); next: cd infra/aws && sam build && sam deploy --guided"
