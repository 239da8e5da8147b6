#!/usr/bin/env bash
# The CI pipeline, runnable on any CI: set up, then lint, test, build, docker-build,
# container-test and (with a registry) docker-push for what changed between BASE and HEAD.
#   bash tools/ci/pipeline.sh <base-sha> [head-sha]
# Environment: IMAGE_CHAIN_REGISTRY (where images travel by digest; it is part of the cache
# key, so every run that should share entries names it), IMAGE_CHAIN_PUSH=false for untrusted
# runs (pull requests: they pull what the shared entries recorded, never push), and optionally
# NX_SELF_HOSTED_REMOTE_CACHE_SERVER + NX_SELF_HOSTED_REMOTE_CACHE_ACCESS_TOKEN (a read-only
# token for untrusted runs).
set -euo pipefail
cd "$(dirname "$0")/../.."
base=${1:?usage: pipeline.sh <base-sha> [head-sha]}
head=${2:-HEAD}
export NX_NO_CLOUD=true NX_TUI=false NX_DAEMON=false
bash tools/setup.sh
. tools/node/env.sh # the Node the set-up chose (Node 24 where the host's is older than the floor)
targets=lint,test,build,docker-build,container-test
[ -n "${IMAGE_CHAIN_REGISTRY:-}" ] && [ "${IMAGE_CHAIN_PUSH:-}" != false ] && targets="$targets,docker-push"
node -r @swc-node/register tools/ci/affected.ts --base "$base" --head "$head" --targets "$targets"
