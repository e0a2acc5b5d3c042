#!/usr/bin/env bash
# The whole test suite, as a new user or CI runs it: install what is missing,
# build everything (the plugins too, through build scripts), run every test,
# then check formatting and lints, and validate the deployment templates.
set -euo pipefail
cd "$(dirname "$0")/.."

infra/local/install.sh
cargo build --workspace --bins --locked
cargo test --workspace --locked
cargo fmt --all -- --check
cargo clippy --workspace --all-targets --locked -- -D warnings
(cd plugins && cargo fmt --all -- --check && cargo clippy --release --locked -- -D warnings)
(cd tests/plugins && cargo fmt --all -- --check)
infra/check.sh
echo "tests/run.sh: all checks passed"
