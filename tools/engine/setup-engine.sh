#!/usr/bin/env bash
# A running Docker engine with BuildKit, for tools/setup.sh.
# - An engine that already answers is used as it is (Docker's own docker-ce, Docker Desktop, a
#   remote DOCKER_HOST): no engine package is installed beside it. Only Debian 12's docker.io 20.10,
#   which earlier set-ups of this project installed, is upgraded.
# - On Debian 12 the engine comes from Debian 13: docker.io 26, docker-cli, containerd and
#   docker-buildx, pinned by apt preferences so that nothing else is taken from Debian 13.
# - An engine without BuildKit (no buildx plugin) gets a warning: builds then use the classic builder.
set -euo pipefail

have() { command -v "$1" >/dev/null 2>&1; }
engine_up() { docker version --format '{{.Server.Version}}' >/dev/null 2>&1; }
engine_version() { docker version --format '{{.Server.Version}}' 2>/dev/null; }
ENGINE_PACKAGES=(docker.io docker-cli containerd docker-buildx)
TRIXIE_LIST=/etc/apt/sources.list.d/image-chain-trixie.list
TRIXIE_PIN=/etc/apt/preferences.d/image-chain-docker

debian_release() { sed -n 's/^VERSION_CODENAME=//p' /etc/os-release 2>/dev/null; }

start_engine() {
  if have systemctl && systemctl start docker 2>/dev/null; then
    echo "started the docker service"
  else
    nohup dockerd >/var/log/dockerd.log 2>&1 &
    echo "started dockerd in the background (log: /var/log/dockerd.log)"
  fi
  for _ in $(seq 1 60); do engine_up && return 0; sleep 1; done
  echo "dockerd did not answer within 60 s; see /var/log/dockerd.log" >&2
  exit 1
}

stop_engine() {
  if have systemctl && systemctl stop docker 2>/dev/null; then return 0; fi
  pkill -TERM -x dockerd 2>/dev/null || true
  for _ in $(seq 1 30); do pgrep -x dockerd >/dev/null || return 0; sleep 1; done
  echo "dockerd did not stop within 30 s" >&2
  exit 1
}

# Debian 13's engine on Debian 12: its apt source, and preferences that give Debian 13 a low
# priority for everything but the four engine packages.
install_trixie_engine() {
  if [ "$(id -u)" != 0 ] || ! have apt-get; then
    echo "No Docker engine with BuildKit here. Install Docker 23 or newer with the buildx plugin (as root on Debian 12: bash tools/setup.sh)." >&2
    exit 1
  fi
  if [ "$(debian_release)" = bookworm ]; then
    echo 'deb http://deb.debian.org/debian trixie main' >"$TRIXIE_LIST"
    cat >"$TRIXIE_PIN" <<'PIN'
# Written by this project's tools/setup.sh: Docker's engine from Debian 13, nothing else.
Package: *
Pin: release n=trixie
Pin-Priority: 100

Package: docker.io docker-cli containerd docker-buildx
Pin: release n=trixie
Pin-Priority: 990
PIN
  fi
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${ENGINE_PACKAGES[@]}" >/dev/null
  # Debian's package starts its service where an init system runs; here we start it ourselves.
}

# Debian 12's own docker.io (20.10): what this project's earlier set-ups installed.
old_debian_engine() {
  have dpkg-query || return 1
  local v
  v=$(dpkg-query -W -f '${Version}' docker.io 2>/dev/null) || return 1
  [[ "$v" == 20.10.* ]]
}

if old_debian_engine; then
  echo "upgrading Debian 12's docker.io $(dpkg-query -W -f '${Version}' docker.io) to Debian 13's Docker engine"
  if engine_up; then stop_engine; fi
  install_trixie_engine
  start_engine
elif engine_up; then
  echo "an engine already answers: left as it is"
else
  have dockerd || { echo "installing Debian 13's Docker engine"; install_trixie_engine; }
  start_engine
fi
echo "engine answers: $(engine_version)"

if docker buildx version >/dev/null 2>&1; then
  echo "BuildKit: $(docker buildx version | head -n1)"
else
  echo "WARNING: the Docker client has no buildx plugin, so this engine builds without BuildKit: builds fall back to the classic builder, which Docker deprecated. Install docker-buildx (Debian) or docker-buildx-plugin (Docker's packages)." >&2
fi
