#!/usr/bin/env bash
# The main job, on this machine: the tutorial's flow up to the decision.
# A local Distribution registry stands in for ACR (registries.conf maps the
# tutorial's ACR host to it), images are "built" (pushed) with different
# build times, and the tutorial's three Applications — verbatim — go through
# `poll-registry` and `resolve-strategy` as the cloud would run them
# (`updraft invoke`). Then a second cycle from a fresh process shows the
# cache surviving the cold start, and a new push shows the next decision.
# Finally `updraft test` and `updraft resolve` with a third-party plugin.
# Nothing to configure; everything runs on loopback and stops at the end.
set -euo pipefail
cd "$(dirname "$0")/../.."

infra/local/install.sh
cargo build --locked -p updraft
(cd plugins && cargo build --locked --release -p release-version)
# Honour CARGO_TARGET_DIR (plugins/ builds there too when it is set).
updraft=$PWD/${CARGO_TARGET_DIR:-target}/debug/updraft
[[ ${CARGO_TARGET_DIR:-} == /* ]] && updraft=$CARGO_TARGET_DIR/debug/updraft
example=${CARGO_TARGET_DIR:-plugins/target}/wasm32-wasip2/release/release_version.wasm

work=$(mktemp -d)
cleanup() {
    infra/local/registry.sh stop "$work/registry" >/dev/null 2>&1 || true
    rm -rf "$work"
}
trap cleanup EXIT
mkdir -p "$work/registry" "$work/apps"
UPDRAFT_SERVICE_TTL=900 infra/local/registry.sh start "$work/registry" anon >/dev/null
registry=$(sed -n 's/^ANON_URL=//p' "$work/registry/registry.env")
acr=demo-test-registry.cn-hangzhou.cr.aliyuncs.com

push() { # repo tag created
    infra/local/push-image.py "$registry" "$1" "$2" "$3" >/dev/null
    printf '  pushed %s:%s (built %s)\n' "$1" "$2" "$3"
}

show() {
    printf '\n$ updraft %s\n' "$*"
    "$updraft" "$@"
}

# Summarises a result event (JSON on stdin) in a few lines.
summary() { python3 infra/local/demo/summary.py; }

echo "== ACR builds images (a local registry stands in for $acr)"
push cidemo/echo-server v1.0.0 2026-11-01T10:00:00Z
push cidemo/echo-server v1.1.0 2026-11-20T10:00:00Z
push cidemo/echo-web-server v1.0.0 2026-11-02T10:00:00Z

cp infra/local/demo/tutorial-apps.yaml "$work/apps/"
cat >"$work/updraft.yaml" <<YAML
state: file://$work/state
applications:
  - dir: apps
registries:
  - name: acr-ee (local stand-in)
    api_url: $registry
    prefix: $acr
YAML
printf '\n$ cat updraft.yaml\n'; cat "$work/updraft.yaml"

echo
echo "== Cycle 1: cold start, empty store"
"$updraft" invoke poll-registry --config "$work/updraft.yaml" >"$work/resolve.json"
summary <"$work/resolve.json"
"$updraft" invoke resolve-strategy --config "$work/updraft.yaml" --event "$work/resolve.json" >"$work/writeback.json"
summary <"$work/writeback.json"

echo
echo "== Cycle 2: a fresh process, warm store, nothing new"
"$updraft" invoke poll-registry --config "$work/updraft.yaml" | summary

echo
echo "== ACR builds a new echo-server; cycle 3"
push cidemo/echo-server v1.2.0 2026-11-26T09:00:00Z
"$updraft" invoke poll-registry --config "$work/updraft.yaml" >"$work/resolve.json"
summary <"$work/resolve.json"
"$updraft" invoke resolve-strategy --config "$work/updraft.yaml" --event "$work/resolve.json" | summary

printf '\n$ cat registries.conf\n'
printf 'registries:\n- name: local\n  api_url: %s\n  prefix: %s\n' "$registry" "$acr" | tee "$work/registries.conf"
show test "$acr/cidemo/echo-server" --update-strategy newest-build --registries-conf "$work/registries.conf"
show resolve --tags infra/local/sample-tags.json --plugin "$example" --allow-tags 'regexp:^release-' --current release-1.9.0
