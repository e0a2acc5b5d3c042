#!/usr/bin/env bash
# Installs what building and testing Updraft needs on a Debian/Ubuntu machine
# (or checks that it is there): the wasm32-wasip2 Rust target, and the system
# packages the test services need. Safe to run again; it only adds what is
# missing. Later services (registry, S3 server, git over HTTP) add their
# packages here.
set -euo pipefail
cd "$(dirname "$0")/../.."

say() { printf '==> %s\n' "$*" >&2; }

if ! command -v cargo >/dev/null 2>&1; then
    echo "cargo not found: install Rust with rustup (https://rustup.rs), then run this again" >&2
    exit 1
fi

# rust-toolchain.toml pins the toolchain; make sure it and the wasm target exist
# (RUSTUP_AUTO_INSTALL=0 environments do not install them on their own).
toolchain=$(sed -n 's/^channel *= *"\(.*\)"/\1/p' rust-toolchain.toml)
if command -v rustup >/dev/null 2>&1; then
    if ! rustup toolchain list | grep -q "^${toolchain}"; then
        say "installing Rust ${toolchain}"
        rustup toolchain install "${toolchain}" --profile minimal --component rustfmt,clippy
    fi
    if ! rustup target list --installed --toolchain "${toolchain}" | grep -qx wasm32-wasip2; then
        say "adding the wasm32-wasip2 target"
        rustup target add wasm32-wasip2 --toolchain "${toolchain}"
    fi
else
    echo "rustup not found: install the wasm32-wasip2 target for your toolchain by hand" >&2
fi

# System packages the build and the tests use.
missing=()
for pkg in gcc pkg-config; do
    command -v "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
done
# The registry tests (infra/local/registry.sh): Debian's docker-registry,
# htpasswd (apache2-utils) for its Basic-auth file, openssl for the token
# server's signing key. Checked by command, installed by package.
for pair in docker-registry:docker-registry htpasswd:apache2-utils openssl:openssl; do
    command -v "${pair%%:*}" >/dev/null 2>&1 || missing+=("${pair#*:}")
done
# The git tests (infra/local/git.sh): lighttpd running git-http-backend, and
# the git CLI; git2 links the system OpenSSL (its headers: libssl-dev).
for pair in git:git lighttpd:lighttpd; do
    command -v "${pair%%:*}" >/dev/null 2>&1 || missing+=("${pair#*:}")
done
pkg-config --exists openssl 2>/dev/null || missing+=(libssl-dev)
# The checkpoint-store tests' S3 server (infra/local/s3.sh): moto in .venv.
command -v python3 >/dev/null 2>&1 || missing+=(python3)
python3 -c 'import venv, ensurepip' >/dev/null 2>&1 || missing+=(python3-venv)
if ((${#missing[@]})); then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        say "installing ${missing[*]}"
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
    else
        echo "missing: ${missing[*]} — install them with your package manager" >&2
        exit 1
    fi
fi
infra/local/s3.sh venv # creates .venv with moto when missing
say "build prerequisites present"
