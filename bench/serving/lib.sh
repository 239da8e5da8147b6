# Shared by the serving benchmarks (bench/serving.sh, bench/serving-autopilot.sh): containers on
# the host network bound to 127.0.0.1, /ping polling, memory samples, bounded wrk runs and the
# docs section writer. Source it after setting WORK, IMAGE, DURATION, WARMUP and START_LIMIT;
# every container named through start_container is removed by cleanup (trap it on EXIT).

log() { printf '[serving] %s\n' "$*" >&2; }
die() { log "ERROR: $*"; exit 2; }

need_tools() {
  local tool
  for tool in "$@"; do
    command -v "$tool" >/dev/null || die "$tool not found (wrk: apt-get install -y wrk)"
  done
}

CONTAINERS=()
cleanup() {
  local c
  for c in "${CONTAINERS[@]}"; do
    docker rm -f "$c" >/dev/null 2>&1 || true
  done
  rm -rf "$WORK"
}

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

now_ns() { date +%s%N; }

# start_container NAME PORT [docker run args...]: `serve` on 127.0.0.1:PORT; records NAME.
start_container() {
  local name="$1" port="$2"; shift 2
  CONTAINERS+=("$name")
  docker run -d --name "$name" --network host \
    -e SAGEMAKER_BIND_TO_HOST=127.0.0.1 -e SAGEMAKER_BIND_TO_PORT="$port" \
    "$@" "$IMAGE" serve >/dev/null
}

remove_container() { docker rm -f "$1" >/dev/null 2>&1 || true; }

# wait_ping PORT NAME: poll GET /ping every 50 ms until 200 (bounded by START_LIMIT).
wait_ping() {
  local port="$1" name="$2" deadline code
  deadline=$(( $(now_ns) + START_LIMIT * 1000000000 ))
  while :; do
    code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 1 "http://127.0.0.1:$port/ping" || true)
    [[ "$code" == 200 ]] && return 0
    if [[ "$(docker inspect -f '{{.State.Running}}' "$name" 2>/dev/null)" != true ]]; then
      docker logs "$name" 2>&1 | tail -20 >&2
      die "container $name exited before /ping answered 200"
    fi
    (( $(now_ns) > deadline )) && { docker logs "$name" 2>&1 | tail -20 >&2; die "no 200 on /ping within ${START_LIMIT}s"; }
    sleep 0.05
  done
}

# cold_starts RUNS [docker run args...]: start, wait for /ping, RUNS times; the last container
# stays up. Sets COLD (the laps), COLD_MED, NAME and PORT.
cold_starts() {
  local runs="$1" i port name t0 t1 s; shift
  COLD=()
  for i in $(seq 1 "$runs"); do
    port="$(free_port)"
    name="$TAG-cold$i"
    t0=$(now_ns)
    start_container "$name" "$port" "$@"
    wait_ping "$port" "$name"
    t1=$(now_ns)
    s=$(awk -v d=$(( t1 - t0 )) 'BEGIN {printf "%.2f", d / 1e9}')
    COLD+=("$s")
    log "cold start $i: ${s}s"
    if (( i < runs )); then remove_container "$name"; fi
  done
  COLD_MED=$(printf '%s\n' "${COLD[@]}" | median)
  COLD_MED=$(awk -v x="$COLD_MED" 'BEGIN {printf "%.2f", x}')
  NAME="$name" PORT="$port"
}

# mem_mib NAME: container memory (docker stats MemUsage) in MiB.
mem_mib() {
  docker stats --no-stream --format '{{.MemUsage}}' "$1" | awk '{
    v = $1; u = v; sub(/[0-9.]+/, "", u); sub(/[A-Za-z]+$/, "", v)
    f = (u == "GiB") ? 1024 : (u == "KiB") ? 1/1024 : (u == "B") ? 1/1048576 : (u == "GB") ? 1e9/1048576 : (u == "MB") ? 1e6/1048576 : (u == "kB") ? 1e3/1048576 : 1
    printf "%.1f", v * f }'
}

# idle_mib NAME SETTLE: the median of three samples once the server has settled.
idle_mib() {
  sleep "$2"
  for _ in 1 2 3; do mem_mib "$1"; echo; sleep 1; done | median
}

median() { sort -g | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }

workers_of() {
  docker logs "$1" 2>&1 | sed -n 's/.*with \([0-9]*\) gunicorn workers.*/\1/p' | tail -1
}

# write_post_lua BODY CONTENT_TYPE ACCEPT: the wrk script (POST BODY; done() prints one
# machine-readable line) at $WORK/post.lua.
write_post_lua() {
  cat >"$WORK/post.lua" <<LUA
local f = assert(io.open("$1", "rb"))
wrk.method = "POST"
wrk.body = f:read("*a")
f:close()
wrk.headers["Content-Type"] = "$2"
wrk.headers["Accept"] = "$3"

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "BENCH requests=%d duration_us=%d p50_us=%d p90_us=%d p99_us=%d max_us=%d non2xx=%d connect=%d read=%d write=%d timeout=%d\n",
    summary.requests, summary.duration,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max,
    e.status, e.connect, e.read, e.write, e.timeout))
end
LUA
}

# run_wrk PORT THREADS CONNS LABEL: warm-up, then the measured run of $WORK/post.lua.
# Sets R_RPS R_P50 R_P90 R_P99 R_MAX R_NON2XX R_ERRORS R_REQUESTS.
run_wrk() {
  local port="$1" t="$2" c="$3" label="$4" url out line
  url="http://127.0.0.1:$port/invocations"
  log "$label: warm-up ${WARMUP}s (wrk -t$t -c$c)"
  wrk -t"$t" -c"$c" -d"${WARMUP}s" -s "$WORK/post.lua" "$url" >/dev/null
  log "$label: measuring ${DURATION}s (wrk -t$t -c$c --latency)"
  out="$(wrk -t"$t" -c"$c" -d"${DURATION}s" --timeout 10s --latency -s "$WORK/post.lua" "$url")"
  printf '%s\n' "$out" | grep -v '^BENCH' | sed 's/^/    /' >&2
  line="$(printf '%s\n' "$out" | grep '^BENCH ')" || die "no result line from wrk"
  # shellcheck disable=SC2046
  local $(printf '%s' "${line#BENCH }")
  R_RPS=$(awk -v r="$requests" -v d="$duration_us" 'BEGIN {printf "%.1f", r / (d / 1e6)}')
  R_P50=$(awk -v x="$p50_us" 'BEGIN {printf "%.1f", x / 1000}')
  R_P90=$(awk -v x="$p90_us" 'BEGIN {printf "%.1f", x / 1000}')
  R_P99=$(awk -v x="$p99_us" 'BEGIN {printf "%.1f", x / 1000}')
  R_MAX=$(awk -v x="$max_us" 'BEGIN {printf "%.1f", x / 1000}')
  R_NON2XX="$non2xx"
  R_ERRORS=$(( connect + read + write + timeout ))
  R_REQUESTS="$requests"
}

# load_runs PORT: the 1- and 16-connection runs; sets C1_* and C16_*.
load_runs() {
  run_wrk "$1" 1 1 "1 connection"
  C1_RPS=$R_RPS C1_P50=$R_P50 C1_P90=$R_P90 C1_P99=$R_P99 C1_MAX=$R_MAX C1_NON2XX=$R_NON2XX C1_ERR=$R_ERRORS C1_N=$R_REQUESTS
  run_wrk "$1" 2 16 "16 connections"
  C16_RPS=$R_RPS C16_P50=$R_P50 C16_P90=$R_P90 C16_P99=$R_P99 C16_MAX=$R_MAX C16_NON2XX=$R_NON2XX C16_ERR=$R_ERRORS C16_N=$R_REQUESTS
  (( C1_NON2XX + C1_ERR + C16_NON2XX + C16_ERR == 0 )) || \
    die "non-2xx or socket errors under load (1 conn: $C1_NON2XX non-2xx, $C1_ERR errors; 16 conn: $C16_NON2XX non-2xx, $C16_ERR errors)"
}

pass() { if awk -v a="$1" -v b="$2" 'BEGIN {exit !(a < b)}'; then echo pass; else echo FAIL; fi; }

machine_line() {
  local cpu mem
  cpu="$(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo)"
  mem="$(awk '/MemTotal/ {printf "%.0f", $2 / 1048576}' /proc/meminfo)"
  printf '%s CPUs (%s), %s GiB RAM' "$(nproc)" "$cpu" "$mem"
}

# write_section DOCS BEGIN_MARK END_MARK SECTION_FILE: replace only what lies between the
# markers (append them if absent), through a temp file renamed into place.
write_section() {
  mkdir -p "$(dirname "$1")"
  [[ -f "$1" ]] || printf '# Benchmarks\n' >"$1"
  python3 - "$@" <<'PY'
import os, sys, tempfile
docs, begin, end, section_file = sys.argv[1:5]
text = open(docs, encoding="utf-8").read()
section = open(section_file, encoding="utf-8").read().rstrip("\n")
block = f"{begin}\n{section}\n{end}"
if begin in text and end in text and text.index(begin) < text.index(end):
    head, rest = text.split(begin, 1)
    _, tail = rest.split(end, 1)
    new = head + block + tail
else:
    new = text.rstrip("\n") + "\n\n" + block + "\n"
fd, tmp = tempfile.mkstemp(dir=os.path.dirname(docs), prefix=".benchmarks.")
with os.fdopen(fd, "w", encoding="utf-8") as handle:
    handle.write(new)
os.chmod(tmp, 0o644)
os.replace(tmp, docs)
PY
}

# finish SECTION WHAT: print the section, write it to $DOCS between $BEGIN_MARK and $END_MARK
# (unless WRITE_DOCS=0), and exit 1 if a target (V_P99, V_COLD, V_MEM) was missed.
finish() {
  echo
  printf '%s\n' "$1"
  echo
  if [[ "$WRITE_DOCS" == 1 ]]; then
    printf '%s\n' "$1" >"$WORK/section.md"
    write_section "$DOCS" "$BEGIN_MARK" "$END_MARK" "$WORK/section.md"
    log "wrote the $2 section of $DOCS"
  fi
  if [[ "$V_P99 $V_COLD $V_MEM" == *FAIL* ]]; then
    log "a target was missed (p99@16: $V_P99, cold start: $V_COLD, idle memory: $V_MEM)"
    exit 1
  fi
  log "all targets met"
}
