#!/usr/bin/env bash
# Tollgate's test command (README "Test it"; CI runs it through .ci/run).
# Installs what the tests need that cargo cannot fetch (Debian's Chromium and chromedriver
# for the real-browser test), then checks formatting and lints and runs every test.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v chromium >/dev/null 2>&1 || ! command -v chromedriver >/dev/null 2>&1; then
  echo "ops/test.sh: installing chromium and chromium-driver (browser test)"
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium chromium-driver >/dev/null
fi

cargo fmt --all -- --check
cargo clippy --workspace --all-targets --locked -- -D warnings
cargo test --workspace --locked
# Tests with a prerequisite are #[ignore]d, so a plain `cargo test` reports them as ignored
# (with the reason) instead of passing them. The real-browser tests need Chromium, which
# this script installed above: they run here, and a browser that cannot start fails them.
cargo test --workspace --locked --test browser --test browser_passkeys --test browser_portal \
  -- --ignored
# The ScyllaDB tests need a node: they run when TOLLGATE_TEST_SCYLLA names one
# (ops/scylla-test.sh starts one in Docker and runs them), and are skipped, saying so, otherwise.
if [ -n "${TOLLGATE_TEST_SCYLLA:-}" ]; then
  cargo test --workspace --locked --test scylla_store --test cluster -- --ignored
else
  echo "ops/test.sh: SKIPPED the ScyllaDB tests (scylla_store; the ScyllaDB half of cluster):" \
    "TOLLGATE_TEST_SCYLLA is not set. ops/scylla-test.sh starts a node and runs them."
fi
