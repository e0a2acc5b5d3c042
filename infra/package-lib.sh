# Helpers the two package scripts (infra/aliyun/package.sh,
# infra/aws/package.sh) share: build the release binary, find it, check that
# it can start on the target runtime, copy the package. Sourced, not run; the
# caller sets repo, binary, config and includes.
# shellcheck shell=bash
# The caller's variables this file reads:
# shellcheck disable=SC2154

say() { printf '==> %s\n' "$*" >&2; }
die() { printf 'package.sh: %s\n' "$*" >&2; exit 1; }

# build_release: builds the release binary with OpenSSL (libgit2, libssh2)
# and zlib linked in, so that it needs only libc; with cargo-zigbuild
# (glibc 2.28 symbols) when installed, else plain cargo. Sets binary.
build_release() {
    local zig_target="x86_64-unknown-linux-gnu.2.28" inc
    # Debian keeps opensslconf.h in a multiarch directory that zig's compiler
    # does not search: give openssl-sys one merged include directory.
    inc="$(mktemp -d)"
    # shellcheck disable=SC2064 # expand now: the trap outlives this function
    trap "rm -rf '$inc'" EXIT
    cp -R /usr/include/openssl "$inc/"
    if [ -d /usr/include/x86_64-linux-gnu/openssl ]; then
        cp /usr/include/x86_64-linux-gnu/openssl/* "$inc/openssl/"
    fi
    export OPENSSL_STATIC=1 OPENSSL_LIB_DIR=/usr/lib/x86_64-linux-gnu OPENSSL_INCLUDE_DIR="$inc" LIBZ_SYS_STATIC=1
    cd "$repo" || die "cannot enter $repo"
    if command -v cargo-zigbuild >/dev/null 2>&1; then
        say "cargo zigbuild --release -p updraft --target $zig_target"
        cargo zigbuild --release -p updraft --target "$zig_target"
        binary="${binary:-$repo/target/x86_64-unknown-linux-gnu/release/updraft}"
    else
        say "cargo build --release -p updraft (no cargo-zigbuild: the binary needs this machine's glibc)"
        cargo build --release -p updraft
        binary="${binary:-$repo/target/release/updraft}"
    fi
}

# find_binary: the binary to package (given, else the newest build), and
# the configuration must exist.
find_binary() {
    local candidate
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
}

# check_binary RUNTIME MAX_GLIBC: refuses a binary that cannot start on
# RUNTIME: not an x86-64 ELF, a glibc newer than MAX_GLIBC, or a shared
# library beyond glibc's own.
check_binary() {
    local runtime=$1 max_glibc=$2 header needed lib newest
    command -v objdump >/dev/null 2>&1 || die "objdump (binutils) is needed to check the binary"
    header="$(objdump -f "$binary")"
    grep -q 'elf64-x86-64' <<<"$header" || die "$binary is not an x86-64 ELF ($runtime runs x86_64)"
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
}

# copy_package OUT: the binary, the configuration and the includes in OUT
# (emptied first).
copy_package() {
    local out=$1 path
    rm -rf "$out"
    mkdir -p "$out"
    install -m 0755 "$binary" "$out/updraft"
    install -m 0644 "$config" "$out/updraft.yaml"
    for path in "${includes[@]}"; do
        cp -R "$path" "$out/"
    done
}
