#!/usr/bin/env bash
# Makes the Function Compute code package: infra/aliyun/build/fc/ (for
# `s deploy`) and infra/aliyun/build/updraft-fc.zip (for Terraform), holding
#
#   updraft        the release binary (FC starts `/code/updraft fc`)
#   updraft.yaml   your configuration (UPDRAFT_CONFIG=/code/updraft.yaml)
#   ...            anything given with --include (plugins the config names)
#
# and refuses a binary that cannot start on the chosen runtime: it must be an
# x86-64 ELF, need no newer glibc than the runtime's Debian (custom.debian10:
# 2.28, custom.debian11: 2.31, custom.debian12: 2.36), and link no shared
# library beyond libc (OpenSSL, zlib: link them statically, README.md).
#
#   infra/aliyun/package.sh --config updraft.yaml [--runtime custom.debian10]
#                           [--binary PATH] [--include plugins] [--build]
#
# --build builds the binary first (README.md, "Build"): with cargo-zigbuild
# when it is installed (glibc 2.28 symbols), else with plain cargo.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
out="$here/build/fc"
zip="$here/build/updraft-fc.zip"
runtime="${UPDRAFT_FC_RUNTIME:-custom.debian10}"

binary="${UPDRAFT_BIN:-}"
config=""
build=false
includes=()
while [ $# -gt 0 ]; do
    case "$1" in
    --binary) binary="$2"; shift 2 ;;
    --config) config="$2"; shift 2 ;;
    --include) includes+=("$2"); shift 2 ;;
    --runtime) runtime="$2"; shift 2 ;;
    --build) build=true; shift ;;
    -h | --help) sed -n '2,19p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "package.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
    esac
done

# shellcheck source=infra/package-lib.sh
. "$repo/infra/package-lib.sh"

case "$runtime" in
custom.debian10) max_glibc="2.28" ;;
custom.debian11) max_glibc="2.31" ;;
custom.debian12) max_glibc="2.36" ;;
*) die "unknown runtime $runtime (custom.debian10, custom.debian11 or custom.debian12)" ;;
esac

if $build; then
    build_release
fi

find_binary

# --- can it start on the runtime? ----------------------------------------------
check_binary "$runtime" "$max_glibc"

# --- the package --------------------------------------------------------------
copy_package "$out"
# The zip keeps the executable bit (FC runs /code/updraft directly).
rm -f "$zip"
python3 - "$out" "$zip" <<'PY'
import os, sys, zipfile
src, dst = sys.argv[1], sys.argv[2]
with zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as z:
    for root, dirs, files in os.walk(src):
        dirs.sort()
        for name in sorted(files):
            path = os.path.join(root, name)
            info = zipfile.ZipInfo.from_file(path, os.path.relpath(path, src))
            info.compress_type = zipfile.ZIP_DEFLATED
            with open(path, "rb") as f:
                z.writestr(info, f.read())
PY
say "package: $out and $zip ($(du -sh "$zip" | cut -f1)) for $runtime"
say "next: cd infra/aliyun && s deploy   (or terraform -chdir=infra/aliyun/terraform apply)"
