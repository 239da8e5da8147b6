#!/usr/bin/env bash
# Serving benchmark for the final image (SageMaker scikit-learn container), per version line.
#
#   bash bench/serving.sh                # every line's final image (names from images/versions.json)
#   bash bench/serving.sh IMAGE...       # these images
#
# Per image: the model fixture is trained inside the image (by its own scikit-learn), then
# cold start (docker run -d ... serve -> first 200 on GET /ping, median of 3), idle memory,
# and throughput / p50 / p99 latency of POST /invocations (100-row text/csv body) at 1 and
# 16 connections with wrk; one summary row per image and each image's details.
# Prints a report and rewrites the section between
# <!-- bench:serving:begin --> and <!-- bench:serving:end --> in
# docs/benchmarks.md (nothing else in that file is touched).
#
# Network: the container uses --network host, nginx binds 127.0.0.1 on a free
# port, and only 127.0.0.1 is ever addressed. Every wrk run is time-bounded;
# all containers started here are removed on exit (trap).
#
# Knobs (env): DURATION (s, default 10), WARMUP (s, default 3),
# COLD_RUNS (default 3), SETTLE (s before the idle-memory sample, default 5),
# WRITE_DOCS (default 1; 0 = stdout only).
# Exit status: 0 all targets met, 1 a target missed, 2 the benchmark itself
# failed (non-2xx / socket errors, server did not start, tool missing).

set -euo pipefail

DURATION="${DURATION:-10}"
WARMUP="${WARMUP:-3}"
COLD_RUNS="${COLD_RUNS:-3}"
SETTLE="${SETTLE:-5}"
WRITE_DOCS="${WRITE_DOCS:-1}"
ROWS=100
START_LIMIT=60            # s, bound on every wait for /ping

# Targets from the issue.
TARGET_P99_MS=50          # p99 at 16 connections
TARGET_COLD_S=5
TARGET_MEM_MIB=400

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DOCS="$ROOT/docs/benchmarks.md"
HELPER="$ROOT/bench/serving/make_model.py"
BEGIN_MARK='<!-- bench:serving:begin -->'
END_MARK='<!-- bench:serving:end -->'

# shellcheck source=bench/serving/lib.sh
source "$ROOT/bench/serving/lib.sh"

# ---------------------------------------------------------------- setup ----
need_tools docker wrk curl python3

IMAGES=("$@")
LINES=()
if (( ${#IMAGES[@]} == 0 )); then
  while read -r line final _extension; do
    LINES+=("$line"); IMAGES+=("$final")
  done < <("$ROOT/tools/node/env.sh" node -r @swc-node/register "$ROOT/bench/line-images.ts")
fi
for IMAGE in "${IMAGES[@]}"; do
  docker image inspect "$IMAGE" >/dev/null 2>&1 || die "image $IMAGE not found locally (build it: ./nx run-many -t docker-build)"
done

WORK="$(mktemp -d /tmp/bench-serving.XXXXXX)"
trap cleanup EXIT
trap 'exit 130' INT TERM
LOAD_BEFORE="$(cut -d' ' -f1-3 /proc/loadavg)"
SUMMARY=()
DETAILS=()
V_ALL=()

# measure N: everything below for ${IMAGES[N]}; appends its summary row and its table.
measure() {
IMAGE="${IMAGES[$1]}"
TAG="bench-serving-$$-$1"
local fixture="$WORK/$1"
mkdir -p "$fixture"
# Trained by the image's own scikit-learn, so every line loads a pickle of its own version.
docker run --rm --network none -v "$(dirname "$HELPER"):/bench:ro" -v "$fixture:/out" "$IMAGE" \
  python /bench/make_model.py /out "$ROWS" >"$fixture/model.txt" || die "$IMAGE: could not train the model fixture"
MODEL_DESC="$(cat "$fixture/model.txt")"
MODEL_KIB=$(( $(stat -c %s "$fixture/model/model.joblib") / 1024 ))
BODY_BYTES=$(stat -c %s "$fixture/body.csv")
STACK="$(docker run --rm --network none "$IMAGE" sh -c '. /etc/os-release; printf "Debian %s (%s), " "$VERSION_ID" "$VERSION_CODENAME"; python -c "import platform, sklearn; print(\"Python\", platform.python_version() + \", scikit-learn\", sklearn.__version__)"')"
SIZE_MB="$(docker image inspect -f '{{.Size}}' "$IMAGE" | awk '{printf "%.0f", $1 / 1e6}')"
log "$IMAGE: $STACK; fixture: $MODEL_DESC, model.joblib ${MODEL_KIB} KiB, body ${BODY_BYTES} B"

write_post_lua "$fixture/body.csv" text/csv application/json

# ----------------------------------------------------------- cold start ----
cold_starts "$COLD_RUNS" -v "$fixture/model:/opt/ml/model:ro"

# The last cold-start container is the one measured below.
WORKERS="$(workers_of "$NAME")"
log "server: $WORKERS gunicorn workers (image default), port $PORT"

# ---------------------------------------------------------- idle memory ----
MEM_IDLE="$(idle_mib "$NAME" "$SETTLE")"
log "idle memory: ${MEM_IDLE} MiB"

# ---------------------------------------------------------- correctness ----
resp="$fixture/resp.json"
code=$(curl -s -o "$resp" -w '%{http_code}' --max-time 30 -H 'Content-Type: text/csv' \
  -H 'Accept: application/json' --data-binary @"$fixture/body.csv" "http://127.0.0.1:$PORT/invocations")
[[ "$code" == 200 ]] || { cat "$resp" >&2; die "POST /invocations answered $code"; }
n=$(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))))' "$resp" 2>/dev/null || echo "?")
[[ "$n" == "$ROWS" ]] || die "expected $ROWS predictions, got $n"

# ----------------------------------------------------------------- load ----
load_runs "$PORT"
MEM_LOADED="$(mem_mib "$NAME")"

# HTTP stack alone (nginx -> gunicorn -> Flask, no model work): GET /ping at
# 16 connections, ${WARMUP}+${DURATION} s like the others.
log "GET /ping, 16 connections (HTTP stack ceiling): ${DURATION}s"
wrk -t2 -c16 -d"${WARMUP}s" "http://127.0.0.1:$PORT/ping" >/dev/null
PING_RPS="$(wrk -t2 -c16 -d"${DURATION}s" "http://127.0.0.1:$PORT/ping" | awk '/^Requests\/sec/ {printf "%.0f", $2}')"
log "GET /ping: ${PING_RPS} req/s"

# Optional extra run with 2 workers when the image default differs.
EXTRA=""
if [[ "$WORKERS" != 2 ]]; then
  port2="$(free_port)"; name2="$TAG-w2"
  start_container "$name2" "$port2" -v "$fixture/model:/opt/ml/model:ro" -e SAGEMAKER_NUM_MODEL_WORKERS=2
  wait_ping "$port2" "$name2"
  run_wrk "$port2" 2 16 "16 connections, 2 workers"
  EXTRA="| POST /invocations, 16 conn, SAGEMAKER_NUM_MODEL_WORKERS=2: req/s, p50 / p99 | $R_RPS req/s, $R_P50 / $R_P99 ms | p99 < ${TARGET_P99_MS} ms | $(pass "$R_P99" "$TARGET_P99_MS") |"
  (( R_NON2XX + R_ERRORS == 0 )) || die "2-worker run: $R_NON2XX non-2xx, $R_ERRORS socket errors"
  remove_container "$name2"
fi

# ------------------------------------------------------------ diagnosis ----
# Cost of one request inside a worker, without HTTP: decode CSV + predict +
# encode JSON through the container's own handler (median of 50 calls).
docker cp "$fixture/body.csv" "$NAME:/tmp/bench-body.csv" >/dev/null
DIAG="$(docker exec -i "$NAME" python - <<'EOF' 2>/dev/null || echo "handler_ms=? predict_ms=? native_ms=? trees=?"
import statistics, time
import numpy as np
from sagemaker_sklearn_container.hooks import ModelHandler

h = ModelHandler.from_model_dir("/opt/ml/model", "application/json")
model = h.model
body = open("/tmp/bench-body.csv", "rb").read()
x = np.loadtxt("/tmp/bench-body.csv", delimiter=",")

def med(fn, n=50):
    fn()
    out = []
    for _ in range(n):
        t = time.perf_counter(); fn(); out.append(time.perf_counter() - t)
    return statistics.median(out) * 1000

handler = med(lambda: h.invoke(body, "text/csv", "application/json"))
predict = med(lambda: model.predict(x))
x32 = x.astype(np.float32)
native = med(lambda: [t.tree_.predict(x32) for t in model.estimators_])
print(f"handler_ms={handler:.2f} predict_ms={predict:.2f} native_ms={native:.2f} trees={len(model.estimators_)}")
EOF
)"
# shellcheck disable=SC2086
eval "$(printf '%s' "$DIAG" | tr ' ' '\n' | grep -E '^[a-z_]+=[0-9.?]+$' | sed 's/^/D_/')" || true

# -------------------------------------------------------------- verdict ----
V_P99=$(pass "$C16_P99" "$TARGET_P99_MS")
V_COLD=$(pass "$COLD_MED" "$TARGET_COLD_S")
V_MEM=$(pass "$MEM_IDLE" "$TARGET_MEM_MIB")

IMAGE_ID="$(docker image inspect -f '{{.Id}}' "$IMAGE" | cut -c8-19)"
# Queueing floor at 16 connections: 16 requests share $WORKERS workers, so a
# request waits for about 16/W service times (service time ~ p50 at 1 conn).
QUEUE_MS=$(awk -v p="$C1_P50" -v w="$WORKERS" 'BEGIN {printf "%.0f", 16 * p / w}')

TABLE="| metric | measured | target | pass |
| --- | --- | --- | --- |
| cold start, \`docker run -d\` to first 200 on /ping (median of $COLD_RUNS: ${COLD[*]} s) | ${COLD_MED} s | < ${TARGET_COLD_S} s | ${V_COLD} |
| idle memory after start (docker stats, ${SETTLE} s after first 200) | ${MEM_IDLE} MiB | < ${TARGET_MEM_MIB} MiB | ${V_MEM} |
| POST /invocations, 1 conn (wrk -t1 -c1): req/s | ${C1_RPS} | - | - |
| POST /invocations, 1 conn: p50 / p90 / p99 | ${C1_P50} / ${C1_P90} / ${C1_P99} ms | - | - |
| POST /invocations, 16 conn (wrk -t2 -c16): req/s | ${C16_RPS} | - | - |
| POST /invocations, 16 conn: p50 / p90 / p99 | ${C16_P50} / ${C16_P90} / **${C16_P99}** ms | p99 < ${TARGET_P99_MS} ms | ${V_P99} |
| non-2xx / socket errors (both runs, ${C1_N} + ${C16_N} requests) | $(( C1_NON2XX + C16_NON2XX )) / $(( C1_ERR + C16_ERR )) | 0 | $( (( C1_NON2XX + C16_NON2XX + C1_ERR + C16_ERR == 0 )) && echo pass || echo FAIL) |
| memory after the load runs (every worker has loaded the model) | ${MEM_LOADED} MiB | - | - |
${EXTRA}"
TABLE="$(printf '%s\n' "$TABLE" | sed '/^$/d')"

LITTLE_MS=$(awk -v r="$C16_RPS" 'BEGIN {printf "%.0f", 16000 / r}')
NEED_RPS=$(awk -v p="$C16_P99" -v r="$C16_RPS" -v t="$TARGET_P99_MS" 'BEGIN {m = 16000 / r; printf "%.0f", 16000 / (t * m / p)}')
if [[ "$V_P99" == FAIL ]]; then DIAG_HEAD="#### Why p99 at 16 connections misses ${TARGET_P99_MS} ms"; else DIAG_HEAD="#### Where the time goes"; fi
DIAG_TEXT="${DIAG_HEAD}

Measured by this run:

* The server is CPU-bound. 16 connections on ${WORKERS} sync workers give ${C16_RPS} req/s, so by Little's law the mean latency is 16 / ${C16_RPS} = ~${LITTLE_MS} ms whatever the server configuration; a request waits for ~16/${WORKERS} others (16 x ${C1_P50} ms / ${WORKERS} = ~${QUEUE_MS} ms from the 1-connection p50). With the tail shape measured here (p99 / mean), p99 < ${TARGET_P99_MS} ms needs about ${NEED_RPS} req/s.
* Per request inside a worker (\`docker exec\`, no HTTP, median of 50): decode CSV + predict + encode JSON through the image's \`ModelHandler\` ${D_handler_ms:-?} ms, against \`model.predict\` alone ${D_predict_ms:-?} ms; the native traversal of the ${D_trees:-?} trees is ${D_native_ms:-?} ms. The handler's default \`predict_fn\` predicts a plain forest tree by tree (\`sagemaker_sklearn_container/forest.py\`: the same arithmetic in the same order, identical answers), skipping the per-tree joblib dispatch, configuration context and input checks that \`RandomForestClassifier.predict\` pays for every tree.
* The HTTP stack alone (nginx -> unix socket -> gunicorn sync -> Flask, GET /ping at 16 connections) serves ${PING_RPS:-?} req/s on the same cores, so nginx/gunicorn/Flask are a small share of the per-request cost.
"

V_ALL+=("$V_P99" "$V_COLD" "$V_MEM")
SUMMARY+=("| ${LINES[$1]:-\`${IMAGE}\`} | ${STACK} | ${SIZE_MB} MB | ${COLD_MED} s (${V_COLD}) | ${MEM_IDLE} MiB (${V_MEM}) | ${C16_RPS} | **${C16_P99}** ms (${V_P99}) |")
DETAILS+=("### ${LINES[$1]:+Line ${LINES[$1]}: }\`${IMAGE}\` (id \`${IMAGE_ID}\`)

${STACK}; ${WORKERS} gunicorn sync workers (the image default).

${TABLE}

${DIAG_TEXT}")
remove_container "$NAME"
}

for i in "${!IMAGES[@]}"; do measure "$i"; done
LOAD_AFTER="$(cut -d' ' -f1-3 /proc/loadavg)"
V_P99=pass V_COLD=pass V_MEM=pass
[[ " ${V_ALL[*]} " == *" FAIL "* ]] && V_P99=FAIL # finish reports a missed target through these

SECTION="## Serving: the final image under load, per version line

Measured $(date -u +%Y-%m-%d) by \`bench/serving.sh\`, one image after the other in one run.

Machine: $(machine_line), shared with the load generator (wrk runs on the same cores) and with other work on the host (load average ${LOAD_BEFORE} before, ${LOAD_AFTER} after). Server as the image defaults choose it: \`serve\` with one gunicorn sync worker per CPU, nginx in front, \`--network host\` bound to 127.0.0.1. Model: \`RandomForestClassifier\` with default settings, trained inside each image by its own scikit-learn (\`bench/serving/make_model.py\`: 2,000 rows of 10 features); body: ${ROWS} rows as text/csv, JSON answer. Each wrk run: ${WARMUP} s warm-up, then ${DURATION} s measured with \`--latency\`. Targets: cold start < ${TARGET_COLD_S} s, idle memory < ${TARGET_MEM_MIB} MiB, p99 at 16 connections < ${TARGET_P99_MS} ms.

| line | OS, Python, scikit-learn (from the image) | image size | cold start | idle memory | req/s at 16 conn | p99 at 16 conn |
| --- | --- | --- | --- | --- | --- | --- |
$(printf '%s\n' "${SUMMARY[@]}")

$(printf '%s\n\n' "${DETAILS[@]}")
### Tuning already tried

On line 1.4-2, 2026-11-25, same machine, 10 s runs, before the forest fast path (not repeated by the script):

* Worker count (\`SAGEMAKER_NUM_MODEL_WORKERS\`, 16 connections): 1 worker 126 req/s, p99 175 ms; 2 (the default) 248 req/s, p99 91 ms; 4 workers 224 req/s, p99 157 ms. More workers than cores only adds contention. The sync worker class is the right one for CPU-bound predictions under the GIL (gthread/gevent add concurrency, not CPU).
* nginx keeps client connections alive (\`keepalive_timeout 5\`; wrk reuses its connections, 0 socket errors); nginx's per-request access log to stdout costs nothing measurable.
* Through \`model.predict\` (the package before the fast path) the same run gave 271 req/s and p99 84-140 ms: \`n_jobs=2\` makes it slower (a thread pool per call); \`assume_finite\`, \`skip_parameter_validation\` and joblib's sequential backend change nothing. The fast path roughly doubles throughput; the rest of the margin depends on the load of the shared machine (p99 is a queueing figure: ~16/2 requests ahead of each one).

Reproduce (needs docker, wrk and curl; the images built, e.g. \`./nx run-many -t docker-build\`):

\`\`\`bash
bash bench/serving.sh ${*:-}
\`\`\`"

finish "$SECTION" serving
