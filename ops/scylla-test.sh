#!/usr/bin/env bash
# Runs the ScyllaDB store tests against a throw-away three-node ScyllaDB cluster in Docker,
# one node's clock running ahead, so that quorum reads and writes, Paxos (every LWT) and
# coordinator clock skew are real, as they are in production:
#
#   ops/scylla-test.sh            # needs docker and cargo; port 9042 must be free
#
# Builds a ScyllaDB image with libfaketime (pinned base), starts three nodes on a private
# network (the third with FAKETIME=+2s), waits until all three are UN in `nodetool status`,
# runs every #[ignore]d ScyllaDB test with TOLLGATE_TEST_SCYLLA=127.0.0.1:9042 and
# TOLLGATE_TEST_SCYLLA_RF=3, and removes the containers and network on exit, whether the
# tests pass or not.
# Environment: SCYLLA_IMAGE, SCYLLA_TEST_PORT, SCYLLA_WAIT_SECS (default 300), SCYLLA_SKEW
# (default +2s; empty for no skew), SCYLLA_NODES (default 3; 1 for a quick single node).
set -euo pipefail
cd "$(dirname "$0")/.."

IMAGE="${SCYLLA_IMAGE:-scylladb/scylla:2025.1.9}"
PORT="${SCYLLA_TEST_PORT:-9042}"
WAIT_SECS="${SCYLLA_WAIT_SECS:-300}"
SKEW="${SCYLLA_SKEW-+2s}"
NODES="${SCYLLA_NODES:-3}"
TAG="tollgate-scylla-test-$$"
NET="$TAG-net"

for tool in docker cargo; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    echo "ops/scylla-test.sh: $tool is not installed; it is needed here" >&2
    exit 1
  fi
done
if ! docker info >/dev/null 2>&1; then
  echo "ops/scylla-test.sh: cannot reach the Docker daemon (is it running? may this user use it?)" >&2
  exit 1
fi

cleanup() {
  echo "ops/scylla-test.sh: removing the containers and network of $TAG"
  for i in $(seq 1 "$NODES"); do docker rm -f "$TAG-$i" >/dev/null 2>&1 || true; done
  docker network rm "$NET" >/dev/null 2>&1 || true
}
trap cleanup EXIT

# libfaketime shifts what the node's clock reads (monotonic time is left alone, so timers
# keep working): LWT ballots and write timestamps then come from a clock that is ahead.
SKEW_IMAGE="$IMAGE"
if [ -n "$SKEW" ] && [ "$NODES" -gt 1 ]; then
  SKEW_IMAGE="tollgate-scylla-faketime:$(echo "$IMAGE" | tr ':/' '--')"
  echo "ops/scylla-test.sh: building $SKEW_IMAGE (libfaketime on $IMAGE)"
  docker build -q -t "$SKEW_IMAGE" - >/dev/null <<DOCKERFILE
FROM $IMAGE
RUN (apt-get update && apt-get install -y --no-install-recommends faketime && rm -rf /var/lib/apt/lists/*) \
 || (microdnf install -y libfaketime || dnf install -y libfaketime)
DOCKERFILE
fi

docker network create "$NET" >/dev/null
for i in $(seq 1 "$NODES"); do
  args=(-d --name "$TAG-$i" --hostname "$TAG-$i" --network "$NET")
  image="$IMAGE"
  if [ "$i" -eq 1 ]; then
    args+=(-p "127.0.0.1:$PORT:9042")
  fi
  if [ "$i" -eq "$NODES" ] && [ "$NODES" -gt 1 ] && [ -n "$SKEW" ]; then
    image="$SKEW_IMAGE"
    lib=$(docker run --rm --entrypoint sh "$SKEW_IMAGE" -c \
      'ls /usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1 /usr/lib64/faketime/libfaketime.so.1 2>/dev/null | head -1')
    args+=(-e "LD_PRELOAD=$lib" -e "FAKETIME=$SKEW" -e "DONT_FAKE_MONOTONIC=1")
  fi
  echo "ops/scylla-test.sh: starting node $i of $NODES ($image${SKEW:+, clock $SKEW on the last})"
  docker run "${args[@]}" "$image" --seeds "$TAG-1" \
    --smp 1 --memory 750M --overprovisioned 1 --developer-mode 1 >/dev/null
  # Nodes join one at a time (ScyllaDB refuses concurrent bootstraps).
  deadline=$((SECONDS + WAIT_SECS))
  until [ "$(docker exec "$TAG-1" nodetool status 2>/dev/null | grep -c '^UN')" -ge "$i" ]; do
    if [ "$(docker inspect -f '{{.State.Running}}' "$TAG-$i" 2>/dev/null)" != "true" ]; then
      echo "ops/scylla-test.sh: node $i exited; its log:" >&2
      docker logs --tail 50 "$TAG-$i" >&2 || true
      exit 1
    fi
    if [ "$SECONDS" -ge "$deadline" ]; then
      echo "ops/scylla-test.sh: node $i did not join within ${WAIT_SECS}s; last log lines:" >&2
      docker logs --tail 50 "$TAG-$i" >&2 || true
      exit 1
    fi
    sleep 3
  done
done
until docker exec "$TAG-1" cqlsh -e 'describe keyspaces' >/dev/null 2>&1; do
  if [ "$SECONDS" -ge "$deadline" ]; then
    echo "ops/scylla-test.sh: CQL did not answer within ${WAIT_SECS}s" >&2
    exit 1
  fi
  sleep 3
done
if [ "$NODES" -gt 1 ] && [ -n "$SKEW" ]; then
  first=$(docker exec "$TAG-1" date +%s)
  last=$(docker exec "$TAG-$NODES" date +%s)
  echo "ops/scylla-test.sh: node 1 reads $first, node $NODES reads $last (skew $SKEW asked for)"
fi
echo "ops/scylla-test.sh: $NODES node(s) up"

# Nodes started this way are in datacenter "datacenter1" (TOLLGATE_TEST_SCYLLA_DC overrides).
export TOLLGATE_TEST_SCYLLA="127.0.0.1:$PORT"
TOLLGATE_TEST_SCYLLA_RF="$NODES"
export TOLLGATE_TEST_SCYLLA_RF
for target in "-p tollgate-store-scylla --test scylla_store" "-p tollgate-engine --test cluster"; do
  echo "ops/scylla-test.sh: TOLLGATE_TEST_SCYLLA=$TOLLGATE_TEST_SCYLLA TOLLGATE_TEST_SCYLLA_RF=$NODES cargo test $target -- --include-ignored"
  # shellcheck disable=SC2086
  cargo test $target -- --include-ignored --nocapture
done
echo "ops/scylla-test.sh: ScyllaDB tests passed on $NODES node(s)"
