#!/usr/bin/env bash
# The main job, on this machine: the tutorial's flow end to end.
# A local Distribution registry stands in for ACR (registries.conf maps the
# tutorial's ACR host to it), images are "built" (pushed) with different
# build times, and the tutorial's three Applications — verbatim — go through
# `poll-registry` and `resolve-strategy` as the cloud would run them
# (`updraft invoke`). Then a second cycle from a fresh process shows the
# cache surviving the cold start, and a new push shows the next decision.
# Then the whole pipeline with `updraft run --once`: the new tags committed
# to a deployment repository served over git smart HTTP (infra/local/git.sh),
# Dev synced at once and Staging/Production waiting for approval in the
# in-tree Argo CD API emulator (Argo CD needs Kubernetes, which this machine
# lacks); Staging approved, its canary promoted. Finally `updraft test` and
# `updraft resolve` with a third-party plugin.
# Nothing to configure; everything runs on loopback and stops at the end.
set -euo pipefail
cd "$(dirname "$0")/../.."

infra/local/install.sh
cargo build --locked -p updraft
cargo build --locked -p updraft-argocd --features emulator --bin argocd-emulator
(cd plugins && cargo build --locked --release -p release-version)
# Honour CARGO_TARGET_DIR (plugins/ builds there too when it is set).
updraft=$PWD/${CARGO_TARGET_DIR:-target}/debug/updraft
[[ ${CARGO_TARGET_DIR:-} == /* ]] && updraft=$CARGO_TARGET_DIR/debug/updraft
emulator_bin=$(dirname "$updraft")/argocd-emulator
example=${CARGO_TARGET_DIR:-plugins/target}/wasm32-wasip2/release/release_version.wasm

work=$(mktemp -d)
cleanup() {
    [ -n "${emulator_pid:-}" ] && kill "$emulator_pid" 2>/dev/null || true
    infra/local/git.sh stop "$work/git" >/dev/null 2>&1 || true
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

echo
echo "== The whole pipeline: updraft run --once"
mkdir -p "$work/git" "$work/seed/manifests/helm/echo-server"
UPDRAFT_SERVICE_TTL=900 infra/local/git.sh start "$work/git" gitops-demo >/dev/null
git_env() { sed -n "s/^$1=//p" "$work/git/git.env"; }
repo_url="$(git_env GIT_REPOS_URL)/gitops-demo.git"
g() { git -c user.name=Developer -c user.email=dev@example.com -C "$work/seed" "$@"; }
g init -q -b stable-example
for env in dev staging production; do
    printf 'image:\n  echoServer:\n    repository: %s/cidemo/echo-server\n    tag: v1.0.0\n  echoWebServer:\n    repository: %s/cidemo/echo-web-server\n    tag: v1.0.0\n' \
        "$acr" "$acr" >"$work/seed/manifests/helm/echo-server/values-$env.yaml"
done
printf 'apiVersion: v2\nname: echo-server\nversion: 0.1.0\n' >"$work/seed/manifests/helm/echo-server/Chart.yaml"
g add -A && g commit -q -m "the echo-server chart"
for branch in stable-example test2; do
    g push -q "$(git_env GIT_REPOS_DIR)/gitops-demo.git" "HEAD:refs/heads/$branch"
done
echo "  deployment repository: $repo_url (branches stable-example, test2)"
sed "s#git@github.com:ivan-cai/gitops-demo.git#$repo_url#" infra/local/demo/tutorial-apps.yaml >"$work/apps/tutorial-apps.yaml"
"$emulator_bin" "$work/argocd.env" infra/local/demo/tutorial-apps.yaml \
    --rollout app-helm-staging=app-staging/echo-server --rollout app-helm-production=app-production/echo-server \
    2>"$work/emulator.log" &
emulator_pid=$!
for _ in $(seq 100); do [ -s "$work/argocd.env" ] && break; sleep 0.1; done
argocd_url=$(sed -n 's/^ARGOCD_URL=//p' "$work/argocd.env")
sed -n 's/^ARGOCD_TOKEN=//p' "$work/argocd.env" >"$work/argocd-token"
git_env GIT_PASSWORD >"$work/git-password"
echo "  Argo CD API emulator: $argocd_url (the tutorial's three Applications)"
cat >>"$work/updraft.yaml" <<YAML
git:
  work_dir: $work/git-work
  credentials:
    - match: "$(git_env GIT_REPOS_URL)"
      username: $(git_env GIT_USER)
      password: file:git-password
argocd:
  server: $argocd_url
  token: file:argocd-token
promotion:
  environments:
    dev: {applications: [argocd/app-helm-dev]}
    staging:
      applications: [argocd/app-helm-staging]
      canary: {kind: argo-rollouts, name: echo-server, namespace: app-staging}
    production:
      applications: [argocd/app-helm-production]
      after: staging
      soak: 30m
      canary: {kind: argo-rollouts, name: echo-server, namespace: app-production}
YAML
show run --once --dry-run --config "$work/updraft.yaml"
show run --once --config "$work/updraft.yaml"
printf '\n$ git log --oneline stable-example test2   (in the deployment repository)\n'
git -C "$(git_env GIT_REPOS_DIR)/gitops-demo.git" log --oneline --decorate stable-example test2
show pending --config "$work/updraft.yaml"
show approve app-helm-staging --by release-manager --config "$work/updraft.yaml"
show approve app-helm-production --by release-manager --config "$work/updraft.yaml"
show pending --config "$work/updraft.yaml"
show audit --config "$work/updraft.yaml"

printf '\n$ cat registries.conf\n'
printf 'registries:\n- name: local\n  api_url: %s\n  prefix: %s\n' "$registry" "$acr" | tee "$work/registries.conf"
show test "$acr/cidemo/echo-server" --update-strategy newest-build --registries-conf "$work/registries.conf"
show resolve --tags infra/local/sample-tags.json --plugin "$example" --allow-tags 'regexp:^release-' --current release-1.9.0
