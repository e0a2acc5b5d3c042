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

say() { printf '==> %s\n' "$*" >&2; }
die() { printf 'package.sh: %s\n' "$*" >&2; exit 1; }

case "$runtime" in
custom.debian10) max_glibc="2.28" ;;
custom.debian11) max_glibc="2.31" ;;
custom.debian12) max_glibc="2.36" ;;
*) die "unknown runtime $runtime (custom.debian10, custom.debian11 or custom.debian12)" ;;
esac

zig_target="x86_64-unknown-linux-gnu.2.28"
if $build; then
    # OpenSSL (libgit2, libssh2) and zlib linked in, so the binary needs only
    # libc. Debian keeps opensslconf.h in a multiarch directory that zig's
    # compiler does not search: give openssl-sys one merged include directory.
    inc="$(mktemp -d)"
    trap 'rm -rf "$inc"' EXIT
    cp -R /usr/include/openssl "$inc/"
    if [ -d /usr/include/x86_64-linux-gnu/openssl ]; then
        cp /usr/include/x86_64-linux-gnu/openssl/* "$inc/openssl/"
    fi
    export OPENSSL_STATIC=1 OPENSSL_LIB_DIR=/usr/lib/x86_64-linux-gnu OPENSSL_INCLUDE_DIR="$inc" LIBZ_SYS_STATIC=1
    cd "$repo"
    if command -v cargo-zigbuild >/dev/null 2>&1; then
        say "cargo zigbuild --release -p updraft --target $zig_target"
        cargo zigbuild --release -p updraft --target "$zig_target"
        binary="${binary:-$repo/target/x86_64-unknown-linux-gnu/release/updraft}"
    else
        say "cargo build --release -p updraft (no cargo-zigbuild: the binary needs glibc 2.34)"
        cargo build --release -p updraft
        binary="${binary:-$repo/target/release/updraft}"
    fi
fi

if [ -z "$binary" ]; then
    for candidate in "$repo/target/x86_64-unknown-linux-gnu/release/updraft" "$repo/target/release/updraft"; do
        if [ -x "$candidate" ]; then binary="$candidate"; break; fi
    done
fi
if [ -z "$binary" ] || [ ! -x "$binary" ]; then
    die "no updraft binary: build one (--build) or name it with --binary"
fi
[ -n "$config" ] || die "--config FILE is required: the updraft.yaml the functions read"
[ -f "$config" ] || die "$config: no such file"

# --- can it start on the runtime? ----------------------------------------------
command -v objdump >/dev/null 2>&1 || die "objdump (binutils) is needed to check the binary"
header="$(objdump -f "$binary")"
grep -q 'elf64-x86-64' <<<"$header" || die "$binary is not an x86-64 ELF (Function Compute runs x86_64 only)"
needed="$(objdump -p "$binary" | awk '$1 == "NEEDED" {print $2}')"
for lib in $needed; do
    case "$lib" in
    libc.so.6 | libm.so.6 | libgcc_s.so.1 | libpthread.so.0 | libdl.so.2 | librt.so.1 | ld-linux-x86-64.so.2) ;;
    *) die "$binary needs $lib, which $runtime may lack: link it statically (README.md, \"Build\")" ;;
    esac
done
newest="$(objdump -T "$binary" | grep -oE 'GLIBC_[0-9]+\.[0-9]+(\.[0-9]+)?' | sed 's/GLIBC_//' | sort -uV | tail -n 1)"
if [ -n "$newest" ] && [ "$(printf '%s\n%s\n' "$newest" "$max_glibc" | sort -V | tail -n 1)" != "$max_glibc" ]; then
    die "$binary needs glibc $newest; $runtime has $max_glibc (README.md, \"Build\")"
fi
say "binary: $binary (glibc ${newest:-none} <= $max_glibc; needs: ${needed//$'\n'/ })"

# --- the package --------------------------------------------------------------
rm -rf "$out"
mkdir -p "$out"
install -m 0755 "$binary" "$out/updraft"
install -m 0644 "$config" "$out/updraft.yaml"
for path in "${includes[@]}"; do
    cp -R "$path" "$out/"
done
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
