#!/usr/bin/env bash
# Tollgate's test command (README "Test it"; CI runs it through .ci/run).
# Installs what the tests need that cargo cannot fetch (Debian's Chromium and chromedriver
# for the real-browser test), then checks formatting and lints and runs every test.
set -euo pipefail
cd "$(dirname "$0")/.."

# Chromium and chromedriver for the real-browser tests, and a Devanagari font so Hindi
# pages show text, not boxes, in their screenshots.
if ! command -v chromium >/dev/null 2>&1 || ! command -v chromedriver >/dev/null 2>&1 \
  || ! fc-list :lang=hi 2>/dev/null | grep -q .; then
  echo "ops/test.sh: installing chromium, chromium-driver and fonts-lohit-deva (browser test)"
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium chromium-driver \
    fonts-lohit-deva >/dev/null
fi

cargo fmt --all -- --check
cargo clippy --workspace --all-targets --locked -- -D warnings
cargo test --workspace --locked
# Independent OAuth/OIDC client libraries (openid-client and oauth4webapi, pinned in
# gateway/tests/node/package-lock.json) drive every flow against the real server. They need
# Node and the npm packages: installed here, then the #[ignore]d tests run.
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  echo "ops/test.sh: installing nodejs and npm (client-library tests)"
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq nodejs npm >/dev/null
fi
node -e 'process.exit(Number(process.versions.node.split(".")[0]) >= 20 ? 0 : 1)' \
  || { echo "ops/test.sh: the client-library tests need Node.js 20 or later: $(node --version)"; exit 1; }
(cd gateway/tests/node && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
# Tests with a prerequisite are #[ignore]d, so a plain `cargo test` reports them as ignored
# (with the reason) instead of passing them. The real-browser tests need Chromium, which
# this script installed above (browser_i18n also needs axe-core from the npm ci just
# above): they run here, and a browser that cannot start fails them.
cargo test --workspace --locked --test browser --test browser_passkeys --test browser_portal \
  --test browser_i18n --test browser_verify --test dpdp_notice --test dpdp_grievance \
  --test browser_orgs --test dpdp_children -- --ignored
# --workspace, as above: the same feature set as the full run, so nothing is rebuilt.
cargo test --workspace --locked --test node_clients -- --ignored
# The CQL of the ScyllaDB store, parsed by ScyllaDB's cqlsh grammar (no server needed): the
# grammar is the scylla-cqlsh package, pinned, in a venv under target/. The test is
# #[ignore]d in a plain `cargo test`; here it runs, and a missing grammar fails it.
CQL_VENV=target/cql-grammar
if ! "$CQL_VENV/bin/python" -c "import cqlshlib.cql3handling" >/dev/null 2>&1; then
  echo "ops/test.sh: installing ScyllaDB's cqlsh grammar (scylla-cqlsh) into $CQL_VENV"
  if ! python3 -c "import ensurepip, venv" >/dev/null 2>&1; then
    SUDO=""
    [ "$(id -u)" -eq 0 ] || SUDO="sudo"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq python3 python3-venv >/dev/null
  fi
  rm -rf "$CQL_VENV"
  python3 -m venv "$CQL_VENV"
  "$CQL_VENV/bin/pip" install -q scylla-cqlsh==6.0.40
fi
TOLLGATE_CQL_PYTHON="$PWD/$CQL_VENV/bin/python" \
  cargo test --locked -p tollgate-store-scylla --test cql_check -- --ignored
# Independent Python client libraries (gateway/tests/python/requirements.txt, pinned) in a
# venv under target/, named to the tests by TOLLGATE_PYTHON; their tests are #[ignore]d in a
# plain `cargo test` and run here, and a missing library fails them.
PY_VENV=target/py-clients
PY_REQ=gateway/tests/python/requirements.txt
if ! cmp -s "$PY_REQ" "$PY_VENV/requirements.txt" 2>/dev/null; then
  echo "ops/test.sh: installing the Python client libraries into $PY_VENV"
  if ! python3 -c "import ensurepip, venv" >/dev/null 2>&1; then
    SUDO=""
    [ "$(id -u)" -eq 0 ] || SUDO="sudo"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq python3 python3-venv >/dev/null
  fi
  rm -rf "$PY_VENV"
  python3 -m venv "$PY_VENV"
  "$PY_VENV/bin/pip" install -q -r "$PY_REQ"
  cp "$PY_REQ" "$PY_VENV/requirements.txt"
fi
export TOLLGATE_PYTHON="$PWD/$PY_VENV/bin/python"
# (each Python client test adds its `--test <name>` here)
# pysaml2 verifies XML signatures with the xmlsec1 program (Debian's package).
if ! command -v xmlsec1 >/dev/null 2>&1; then
  echo "ops/test.sh: installing xmlsec1 (pysaml2, the SAML client test)"
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq xmlsec1 >/dev/null
fi
cargo test --workspace --locked --test saml_clients -- --ignored
cargo test --workspace --locked --test scim_clients -- --ignored
# The ScyllaDB tests need a node: they run when TOLLGATE_TEST_SCYLLA names one
# (ops/scylla-test.sh starts one in Docker and runs them), and are skipped, saying so, otherwise.
if [ -n "${TOLLGATE_TEST_SCYLLA:-}" ]; then
  cargo test --workspace --locked --test scylla_store --test cluster -- --ignored
else
  echo "ops/test.sh: SKIPPED the ScyllaDB tests (scylla_store; the ScyllaDB half of cluster):" \
    "TOLLGATE_TEST_SCYLLA is not set. ops/scylla-test.sh starts a node and runs them."
fi
