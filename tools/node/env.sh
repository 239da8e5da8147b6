#!/usr/bin/env bash
# The workspace's Node for every command of this repository: .node/bin where tools/setup.sh put
# one (the host's node was older than the floor in package.json engines), else the host's.
# Sourced (bash or zsh), it puts that folder first on PATH, so nx, npm and every task run on it;
# run with a command, it runs the command so:   tools/node/env.sh node_modules/.bin/vitest run
# No node is started here: this runs in front of every ./nx command.
_node_root=$(cd "$(dirname "${BASH_SOURCE:-$0}")/../.." && pwd)
if [ -x "$_node_root/.node/bin/node" ]; then
  case "$PATH" in "$_node_root/.node/bin:"*) ;; *) export PATH="$_node_root/.node/bin:$PATH" ;; esac
fi
unset _node_root
if [ "${BASH_SOURCE:-$0}" = "$0" ] && [ $# -gt 0 ]; then exec "$@"; fi
