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

say() { printf '==> %s\n' "$*" >&2; }
die() { printf 'package.sh: %s\n' "$*" >&2; exit 1; }

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

# --- can it start on provided.al2023? ---------------------------------------
command -v objdump >/dev/null 2>&1 || die "objdump (binutils) is needed to check the binary"
header="$(objdump -f "$binary")"
grep -q 'elf64-x86-64' <<<"$header" || die "$binary is not an x86-64 ELF (the template deploys x86_64)"
needed="$(objdump -p "$binary" | awk '$1 == "NEEDED" {print $2}')"
for lib in $needed; do
    case "$lib" in
    libc.so.6 | libm.so.6 | libgcc_s.so.1 | libpthread.so.0 | libdl.so.2 | librt.so.1 | ld-linux-x86-64.so.2) ;;
    *) die "$binary needs $lib, which provided.al2023 may lack: link it statically (README.md, \"Build\")" ;;
    esac
done
newest="$(objdump -T "$binary" | grep -oE 'GLIBC_[0-9]+\.[0-9]+(\.[0-9]+)?' | sed 's/GLIBC_//' | sort -uV | tail -n 1)"
if [ -n "$newest" ] && [ "$(printf '%s\n%s\n' "$newest" "$max_glibc" | sort -V | tail -n 1)" != "$max_glibc" ]; then
    die "$binary needs glibc $newest; provided.al2023 has $max_glibc (README.md, \"Build\")"
fi
say "binary: $binary (glibc ${newest:-none} <= $max_glibc; needs: ${needed//$'\n'/ })"

# --- the package --------------------------------------------------------------
rm -rf "$out"
mkdir -p "$out"
install -m 0755 "$here/bootstrap" "$out/bootstrap"
install -m 0755 "$binary" "$out/updraft"
install -m 0644 "$config" "$out/updraft.yaml"
for path in "${includes[@]}"; do
    cp -R "$path" "$out/"
done
say "package: $out ($(du -sh "$out" | cut -f1)); next: cd infra/aws && sam build && sam deploy --guided"
