#!/usr/bin/env bash
# The main job, for now: `updraft resolve` on a shipped sample tag list —
# the tutorial's release-* tags among others — with the built-in strategies
# and with the third-party example plugin. Offline; nothing to configure.
set -euo pipefail
cd "$(dirname "$0")/../.."

infra/local/install.sh
cargo build --locked -p updraft
(cd plugins && cargo build --locked --release -p release-version)
# Honour CARGO_TARGET_DIR (plugins/ builds there too when it is set).
updraft=${CARGO_TARGET_DIR:-target}/debug/updraft
tags=infra/local/sample-tags.json
example=${CARGO_TARGET_DIR:-plugins/target}/wasm32-wasip2/release/release_version.wasm

show() {
    printf '\n$ updraft %s\n' "$*"
    "$updraft" "$@"
}

show resolve --tags "$tags" --update-strategy semver --current v1.0
show resolve --tags "$tags" --update-strategy newest-build --allow-tags 'regexp:^release-' \
    --ignore-tags '*-debug' --platforms linux/amd64 --current release-1.9.0
show resolve --tags "$tags" --plugin "$example" --allow-tags 'regexp:^release-' --current release-1.9.0
show plugin inspect strategy-newest-build
