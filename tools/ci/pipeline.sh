#!/usr/bin/env bash
# The CI pipeline, runnable on any CI: set up, then lint, test, build, docker-build,
# container-test and (with a registry) docker-push for what changed between BASE and HEAD.
#   bash tools/ci/pipeline.sh <base-sha> [head-sha]
# Environment: IMAGE_CHAIN_REGISTRY (push target; no push without it), and optionally
# NX_SELF_HOSTED_REMOTE_CACHE_SERVER + NX_SELF_HOSTED_REMOTE_CACHE_ACCESS_TOKEN (a read-only
# token for untrusted runs such as pull requests from forks).
set -euo pipefail
cd "$(dirname "$0")/../.."
base=${1:?usage: pipeline.sh <base-sha> [head-sha]}
head=${2:-HEAD}
export NX_NO_CLOUD=true NX_TUI=false NX_DAEMON=false
bash tools/setup.sh
targets=lint,test,build,docker-build,container-test
[ -n "${IMAGE_CHAIN_REGISTRY:-}" ] && targets="$targets,docker-push"
node -r @swc-node/register tools/ci/affected.ts --base "$base" --head "$head" --targets "$targets"
