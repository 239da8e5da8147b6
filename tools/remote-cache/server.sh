#!/usr/bin/env bash
# The Nx self-hosted remote cache: Debian's nginx (DAV PUT + njs) on 127.0.0.1, run with its own
# prefix from a state dir, never as the system service. See docs/remote-cache.md.
#
#   tools/remote-cache/server.sh start|stop|status|restart
#
# Environment:
#   REMOTE_CACHE_DIR        state dir (config, pid, logs, tokens, store); default <repo>/.remote-cache
#   REMOTE_CACHE_PORT       port on 127.0.0.1; default 7070 (start: the running server's port if any)
#   REMOTE_CACHE_RW_TOKEN   read-write token (trusted CI); default: from DIR/tokens.env, else generated
#   REMOTE_CACHE_RO_TOKEN   read-only token (untrusted runs); likewise
#   REMOTE_CACHE_STORE      where entries live; default DIR/store
#   REMOTE_CACHE_USER       nginx worker user when started as root; default nobody
#   REMOTE_CACHE_NGINX      nginx binary; default nginx on PATH, else /usr/sbin/nginx
#   REMOTE_CACHE_NJS_MODULE njs module; default /usr/lib/nginx/modules/ngx_http_js_module.so
#
# Needs Debian's nginx-light (or nginx; both have the DAV module built in) and libnginx-mod-http-js.
# start is idempotent: a running server is reloaded only when its rendered config changed.
# status exits 0 when the server runs and answers, 3 when it does not run, 1 when it runs but
# does not answer as it should.
set -euo pipefail
shopt -u patsub_replacement 2>/dev/null || true # bash 5.2: '&' in ${x//a/b} is literal again

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"

die() { echo "remote-cache: $*" >&2; exit 1; }
say() { echo "remote-cache: $*"; }

DIR="$(realpath -m -- "${REMOTE_CACHE_DIR:-$repo/.remote-cache}")"
STORE="${REMOTE_CACHE_STORE:-$DIR/store}"
PIDFILE="$DIR/nginx.pid"
CONF="$DIR/nginx.conf"
ERRLOG="$DIR/logs/error.log"
TOKENS="$DIR/tokens.env"
STATE="$DIR/server.env"
NJS_MODULE="${REMOTE_CACHE_NJS_MODULE:-/usr/lib/nginx/modules/ngx_http_js_module.so}"
ZERO_HASH="0000000000000000000000000000000000000000000000000000000000000000"

# Paths go into the config between double quotes: refuse what would end or expand them there.
safe_path() {
  case "$1" in
    *'"'* | *'$'* | *'\'* | *';'* | *'{'* | *'}'* | *$'\n'* | '') die "unusable path for nginx: '$1'" ;;
  esac
}
safe_path "$DIR"

nginx_bin() {
  if [ -n "${REMOTE_CACHE_NGINX:-}" ]; then echo "$REMOTE_CACHE_NGINX"; return; fi
  if command -v nginx >/dev/null 2>&1; then command -v nginx; return; fi
  [ -x /usr/sbin/nginx ] && { echo /usr/sbin/nginx; return; }
  die "nginx not found: apt-get install nginx-light libnginx-mod-http-js"
}

running_pid() {
  [ -s "$PIDFILE" ] || return 1
  local pid
  pid="$(tr -dc 0-9 <"$PIDFILE")"
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || return 1
  # Only our own master: an nginx whose command line names this state dir.
  tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "$DIR" || return 1
  echo "$pid"
}

saved() { # saved KEY: a value from the last start's server.env
  [ -f "$STATE" ] && sed -n "s/^$1=//p" "$STATE" | tail -n1
}

# HTTP status of GET /v1/cache/<64 zeros> with the rw token (404 means it answers as it should).
probe() {
  local port="$1" token="$2"
  if command -v curl >/dev/null 2>&1; then
    curl -s -o /dev/null -m 3 -w '%{http_code}' -H "Authorization: Bearer $token" \
      "http://127.0.0.1:$port/v1/cache/$ZERO_HASH" || true
  else
    local line=""
    if exec 3<>"/dev/tcp/127.0.0.1/$port" 2>/dev/null; then
      printf 'GET /v1/cache/%s HTTP/1.0\r\nHost: 127.0.0.1\r\nAuthorization: Bearer %s\r\n\r\n' \
        "$ZERO_HASH" "$token" >&3
      IFS= read -r -t 3 line <&3 || true
      exec 3>&- 3<&-
    fi
    echo "$line" | awk '{print $2}'
  fi
}

wait_answer() { # wait_answer PORT TOKEN: up to ~10 s for a 404 on the zero hash
  local code=""
  for _ in $(seq 1 50); do
    code="$(probe "$1" "$2")"
    [ "$code" = 404 ] && return 0
    sleep 0.2
  done
  echo "remote-cache: no 404 from http://127.0.0.1:$1/v1/cache/<zeros> (last answer: '${code:-none}')" >&2
  return 1
}

gen_token() {
  if command -v openssl >/dev/null 2>&1; then openssl rand -hex 32
  else head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n'; fi
}

load_tokens() {
  RW_TOKEN="${REMOTE_CACHE_RW_TOKEN:-}"
  RO_TOKEN="${REMOTE_CACHE_RO_TOKEN:-}"
  if [ -f "$TOKENS" ]; then
    [ -n "$RW_TOKEN" ] || RW_TOKEN="$(sed -n 's/^REMOTE_CACHE_RW_TOKEN=//p' "$TOKENS" | tail -n1)"
    [ -n "$RO_TOKEN" ] || RO_TOKEN="$(sed -n 's/^REMOTE_CACHE_RO_TOKEN=//p' "$TOKENS" | tail -n1)"
  fi
  [ -n "$RW_TOKEN" ] || RW_TOKEN="$(gen_token)"
  [ -n "$RO_TOKEN" ] || RO_TOKEN="$(gen_token)"
  local t
  for t in "$RW_TOKEN" "$RO_TOKEN"; do
    # RFC 6750 b64token characters only: the token goes into the config as a literal.
    [[ "$t" =~ ^[A-Za-z0-9._~+/-]+=*$ ]] || die "a token may hold only A-Z a-z 0-9 . _ ~ + / - (and trailing =)"
    [ "${#t}" -ge 16 ] && [ "${#t}" -le 200 ] || die "a token must be 16 to 200 characters long"
  done
  [ "$RW_TOKEN" != "$RO_TOKEN" ] || die "the read-write and read-only tokens must differ"
  (
    umask 077
    rm -f "$TOKENS.tmp"
    {
      printf '# Tokens of the Nx remote cache at %s (written by tools/remote-cache/server.sh).\n' "$DIR"
      printf '# Read-write: trusted CI only. Read-only: untrusted runs (pull requests).\n'
      printf 'REMOTE_CACHE_RW_TOKEN=%s\nREMOTE_CACHE_RO_TOKEN=%s\n' "$RW_TOKEN" "$RO_TOKEN"
    } >"$TOKENS.tmp"
  )
  chmod 0600 "$TOKENS.tmp"
  mv -f "$TOKENS.tmp" "$TOKENS"
}

render() { # render OUT
  local text user_directive=""
  text="$(cat "$here/nginx.conf.template")"
  if [ "$(id -u)" = 0 ]; then
    local user="${REMOTE_CACHE_USER:-nobody}" group
    group="$(id -gn "$user")" || die "no such user: $user"
    user_directive="user $user $group;"
  fi
  text="${text//'${DIR}'/$DIR}"
  text="${text//'${STORE}'/$STORE}"
  text="${text//'${PORT}'/$PORT}"
  text="${text//'${NJS_MODULE}'/$NJS_MODULE}"
  text="${text//'${RW_TOKEN}'/$RW_TOKEN}"
  text="${text//'${RO_TOKEN}'/$RO_TOKEN}"
  text="${text//'${USER_DIRECTIVE}'/$user_directive}"
  if grep -qE '\$\{[A-Z_]+\}' <<<"$text"; then die "placeholder left unfilled in nginx.conf.template"; fi
  (umask 077 && printf '%s\n' "$text" >"$1")
}

prepare_dirs() {
  mkdir -p "$DIR/logs" "$DIR/tmp/body" "$DIR/tmp/proxy" "$DIR/tmp/fastcgi" "$DIR/tmp/uwsgi" \
    "$DIR/tmp/scgi" "$STORE"
  # The state dir holds tokens and entries: keep all of it out of git wherever it lies.
  [ -f "$DIR/.gitignore" ] || printf '# state of tools/remote-cache/server.sh\n*\n' >"$DIR/.gitignore"
  if [ "$(id -u)" = 0 ]; then
    # Workers run as REMOTE_CACHE_USER: they write the store and the upload temp dir, and must
    # reach them. tokens.env and nginx.conf stay 0600 root (only the master reads them).
    local user="${REMOTE_CACHE_USER:-nobody}"
    chmod 0755 "$DIR"
    chown -R "$user:$(id -gn "$user")" "$STORE" "$DIR/tmp"
    if command -v runuser >/dev/null 2>&1; then
      runuser -u "$user" -- test -w "$STORE" -a -x "$STORE" -a -w "$DIR/tmp/body" ||
        die "worker user '$user' cannot write $STORE or $DIR/tmp/body (a parent dir not searchable by it?)"
    fi
  fi
}

cmd_start() {
  local nginx pid port
  nginx="$(nginx_bin)"
  [ -f "$NJS_MODULE" ] || die "njs module missing ($NJS_MODULE): apt-get install libnginx-mod-http-js"
  safe_path "$STORE"; safe_path "$NJS_MODULE"
  pid="$(running_pid || true)"
  port="${REMOTE_CACHE_PORT:-}"
  if [ -z "$port" ] && [ -n "$pid" ]; then port="$(saved PORT)"; fi
  PORT="${port:-7070}"
  [[ "$PORT" =~ ^[0-9]+$ ]] && [ "$PORT" -ge 1 ] && [ "$PORT" -le 65535 ] || die "bad port: $PORT"
  mkdir -p "$DIR"
  load_tokens
  prepare_dirs
  render "$CONF.new"
  # The master reads cache.js only at start and reload, so it can be replaced before the test.
  local js_changed=0
  if ! cmp -s "$here/cache.js" "$DIR/cache.js"; then
    js_changed=1
    (umask 077 && cp "$here/cache.js" "$DIR/cache.js.new") && mv -f "$DIR/cache.js.new" "$DIR/cache.js"
  fi
  if ! "$nginx" -q -t -p "$DIR" -e "$ERRLOG" -c "$CONF.new" 2>"$DIR/logs/configtest.log"; then
    cat "$DIR/logs/configtest.log" >&2
    die "rendered config does not pass nginx -t ($CONF.new)"
  fi
  if [ -n "$pid" ] && [ "$js_changed" = 0 ] && cmp -s "$CONF.new" "$CONF"; then
    rm -f "$CONF.new"
    say "already running (pid $pid)"
  elif [ -n "$pid" ]; then
    mv -f "$CONF.new" "$CONF"
    kill -HUP "$pid"
    say "config changed: reloaded (pid $pid)"
    sleep 0.5 # the old workers finish; the new ones take the new tokens and port
  else
    mv -f "$CONF.new" "$CONF"
    rm -f "$PIDFILE"
    if ! "$nginx" -p "$DIR" -e "$ERRLOG" -c "$CONF"; then
      tail -n 5 "$ERRLOG" >&2 || true
      die "nginx did not start (log: $ERRLOG)"
    fi
    pid="$(running_pid || true)"
    [ -n "$pid" ] || { tail -n 5 "$ERRLOG" >&2 || true; die "nginx did not stay up (log: $ERRLOG)"; }
  fi
  printf 'PORT=%s\nURL=http://127.0.0.1:%s\nSTORE=%s\n' "$PORT" "$PORT" "$STORE" >"$STATE"
  if ! wait_answer "$PORT" "$RW_TOKEN"; then
    tail -n 5 "$ERRLOG" >&2 || true
    die "started but does not answer (log: $ERRLOG)"
  fi
  say "serving http://127.0.0.1:$PORT (pid $(running_pid), state $DIR, entries $STORE)"
  say "tokens: $TOKENS (REMOTE_CACHE_RW_TOKEN read-write, REMOTE_CACHE_RO_TOKEN read-only)"
  say "use: NX_SELF_HOSTED_REMOTE_CACHE_SERVER=http://127.0.0.1:$PORT NX_SELF_HOSTED_REMOTE_CACHE_ACCESS_TOKEN=<a token>"
}

cmd_stop() {
  local pid
  if ! pid="$(running_pid)"; then
    rm -f "$PIDFILE"
    say "not running ($DIR)"
    return 0
  fi
  kill -QUIT "$pid" # graceful: uploads in flight finish
  for _ in $(seq 1 100); do
    kill -0 "$pid" 2>/dev/null || { say "stopped (pid $pid)"; rm -f "$PIDFILE"; return 0; }
    sleep 0.1
  done
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 1 50); do
    kill -0 "$pid" 2>/dev/null || { say "stopped (pid $pid, after SIGTERM)"; rm -f "$PIDFILE"; return 0; }
    sleep 0.1
  done
  die "nginx (pid $pid) did not stop"
}

cmd_status() {
  local pid port token code
  if ! pid="$(running_pid)"; then
    say "not running ($DIR)"
    return 3
  fi
  port="$(saved PORT)"
  token="$(sed -n 's/^REMOTE_CACHE_RW_TOKEN=//p' "$TOKENS" 2>/dev/null | tail -n1)"
  code="$(probe "$port" "$token")"
  if [ "$code" = 404 ]; then
    say "running: http://127.0.0.1:$port (pid $pid, state $DIR, tokens $TOKENS)"
    return 0
  fi
  say "running (pid $pid) but http://127.0.0.1:$port answers '${code:-nothing}' instead of 404"
  return 1
}

case "${1:-}" in
  start) cmd_start ;;
  stop) cmd_stop ;;
  restart) cmd_stop && cmd_start ;;
  status) cmd_status ;;
  *) echo "usage: $0 start|stop|status|restart" >&2; exit 2 ;;
esac
