#!/usr/bin/env bash
# Runs the ScyllaDB store tests against a throw-away single ScyllaDB node in Docker:
#
#   ops/scylla-test.sh            # needs docker and cargo; port 9042 must be free
#
# Starts scylladb/scylla (pinned), waits until CQL answers, runs
# `cargo test -p tollgate-store-scylla --test scylla_store -- --include-ignored` (and the
# `cluster` test of the engine or the gateway, where it exists) with
# TOLLGATE_TEST_SCYLLA=127.0.0.1:9042, and removes the container on exit, whether the tests
# pass or not. The ScyllaDB tests are #[ignore]d (they need a node), hence --include-ignored.
# Environment: SCYLLA_IMAGE, SCYLLA_TEST_PORT, SCYLLA_WAIT_SECS (default 180).
set -euo pipefail
cd "$(dirname "$0")/.."

IMAGE="${SCYLLA_IMAGE:-scylladb/scylla:2025.1.9}"
PORT="${SCYLLA_TEST_PORT:-9042}"
WAIT_SECS="${SCYLLA_WAIT_SECS:-180}"
NAME="tollgate-scylla-test-$$"

if ! command -v docker >/dev/null 2>&1; then
  echo "ops/scylla-test.sh: docker is not installed; it is needed to start ScyllaDB" >&2
  exit 1
fi
if ! docker info >/dev/null 2>&1; then
  echo "ops/scylla-test.sh: cannot reach the Docker daemon (is it running? may this user use it?)" >&2
  exit 1
fi
if ! command -v cargo >/dev/null 2>&1; then
  echo "ops/scylla-test.sh: cargo is not installed" >&2
  exit 1
fi

cleanup() {
  echo "ops/scylla-test.sh: removing container $NAME"
  docker rm -f "$NAME" >/dev/null 2>&1 || true
}
trap cleanup EXIT

echo "ops/scylla-test.sh: starting $IMAGE as $NAME on 127.0.0.1:$PORT"
docker run -d --name "$NAME" -p "127.0.0.1:$PORT:9042" "$IMAGE" \
  --smp 1 --memory 750M --overprovisioned 1 --developer-mode 1 >/dev/null

echo "ops/scylla-test.sh: waiting up to ${WAIT_SECS}s for CQL"
deadline=$((SECONDS + WAIT_SECS))
until docker exec "$NAME" cqlsh -e 'describe keyspaces' >/dev/null 2>&1; do
  if [ "$(docker inspect -f '{{.State.Running}}' "$NAME" 2>/dev/null)" != "true" ]; then
    echo "ops/scylla-test.sh: ScyllaDB exited; its log:" >&2
    docker logs --tail 50 "$NAME" >&2 || true
    exit 1
  fi
  if [ "$SECONDS" -ge "$deadline" ]; then
    echo "ops/scylla-test.sh: CQL did not answer within ${WAIT_SECS}s; last log lines:" >&2
    docker logs --tail 50 "$NAME" >&2 || true
    exit 1
  fi
  sleep 3
done
echo "ops/scylla-test.sh: CQL is up"

# A single node started this way is in datacenter "datacenter1" (the tests' default;
# TOLLGATE_TEST_SCYLLA_DC overrides it and is passed through when set).
export TOLLGATE_TEST_SCYLLA="127.0.0.1:$PORT"
echo "ops/scylla-test.sh: TOLLGATE_TEST_SCYLLA=$TOLLGATE_TEST_SCYLLA cargo test -p tollgate-store-scylla --test scylla_store -- --include-ignored"
cargo test -p tollgate-store-scylla --test scylla_store -- --include-ignored --nocapture
echo "ops/scylla-test.sh: TOLLGATE_TEST_SCYLLA=$TOLLGATE_TEST_SCYLLA cargo test -p tollgate-engine --test cluster -- --include-ignored"
cargo test -p tollgate-engine --test cluster -- --include-ignored --nocapture
if [ -f gateway/tests/cluster.rs ]; then
  echo "ops/scylla-test.sh: TOLLGATE_TEST_SCYLLA=$TOLLGATE_TEST_SCYLLA cargo test -p tollgate-gateway --test cluster -- --include-ignored"
  cargo test -p tollgate-gateway --test cluster -- --include-ignored --nocapture
fi
echo "ops/scylla-test.sh: ScyllaDB tests passed"
