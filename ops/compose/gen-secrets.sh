#!/usr/bin/env bash
# Creates the secrets of the compose demo (ops/compose/docker-compose.yml) in
# ops/compose/secrets/: the master key (seals the signing keys stored in ScyllaDB), the
# admin API token and Grafana's admin password. Never overwrites an existing file: a lost
# or replaced master key makes every stored signing key unreadable.
#
# The directory is 0700 (only you on this host); the files are 0644 because Docker bind-
# mounts them as they are and the containers read them as their own non-root users
# (tollgate 10001, grafana 472). Keep them out of git (ops/compose/.gitignore does).
set -euo pipefail
cd "$(dirname "$0")"

command -v openssl >/dev/null 2>&1 || { echo "gen-secrets.sh: openssl is required" >&2; exit 1; }

umask 077
mkdir -p secrets
chmod 0700 secrets

write() { # name, generator command...
  local file="secrets/$1"
  shift
  if [ -s "$file" ]; then
    echo "kept      $file (already exists)"
    return
  fi
  "$@" > "$file.tmp"
  chmod 0644 "$file.tmp"
  mv "$file.tmp" "$file"
  echo "created   $file"
}

# 32 random bytes, base64: the form `tollgate gen-master-key` prints.
write master.key openssl rand -base64 32
# 64 hex characters (production requires at least 32).
write admin.token openssl rand -hex 32
write grafana-admin.password openssl rand -hex 16

echo "Back up secrets/master.key together with the ScyllaDB data; one without the other cannot sign tokens."
