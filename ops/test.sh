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
# The ScyllaDB suites run only when TOLLGATE_TEST_SCYLLA names a node (ops/scylla-test.sh
# starts one in Docker); say plainly whether they ran or were skipped.
{
  cargo test --locked -p tollgate-store-scylla --test scylla_store -- --nocapture 2>&1
  cargo test --locked -p tollgate-engine --test cluster -- --nocapture 2>&1
} | grep -E "skipped:|^test |test result" || true
