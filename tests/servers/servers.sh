#!/usr/bin/env bash
# Install, start and stop REAL Nautobot and NetBox servers on 127.0.0.1 for the
# ipam.allocator integration tests. No Docker: PostgreSQL + Redis from Debian,
# Nautobot and NetBox from PyPI in venvs cached under ~/.cache/ipam-allocator.
#
#   servers.sh setup      [nautobot|netbox|all]   install + create DBs (migrate once, then restore dumps)
#   servers.sh start      [nautobot|netbox|all]   start postgres/redis + server(s), wait for /api/status/
#   servers.sh stop       [nautobot|netbox|all]   stop server(s); postgres/redis too when none is left
#   servers.sh status
#   servers.sh env                                  print `export IPAM_TEST_*=...` lines
#   servers.sh reset-data [nautobot|netbox|all]   restore the DB(s) to the post-setup state (~2 s)
#   smoke.sh [nautobot|netbox|all]                  curl + jq end-to-end check of the running servers
#
# All traffic stays on 127.0.0.1. See README.md beside this file.
set -euo pipefail

# --------------------------------------------------------------------------- settings
NAUTOBOT_VERSION="${IPAM_SERVERS_NAUTOBOT_VERSION:-3.2.7}"
NETBOX_VERSION="${IPAM_SERVERS_NETBOX_VERSION:-4.7.3}"

HOST=127.0.0.1
PG_PORT="${IPAM_SERVERS_PG_PORT:-54329}"
REDIS_PORT="${IPAM_SERVERS_REDIS_PORT:-63799}"
NAUTOBOT_PORT="${IPAM_SERVERS_NAUTOBOT_PORT:-18480}"
NETBOX_PORT="${IPAM_SERVERS_NETBOX_PORT:-18481}"
NAUTOBOT_WORKERS="${IPAM_SERVERS_NAUTOBOT_WORKERS:-4}"
NETBOX_WORKERS="${IPAM_SERVERS_NETBOX_WORKERS:-4}"
START_TIMEOUT="${IPAM_SERVERS_START_TIMEOUT:-240}"

CACHE_DIR="${IPAM_SERVERS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/ipam-allocator}"
RUN_DIR="$CACHE_DIR/run"
LOG_DIR="$CACHE_DIR/logs"
# PostgreSQL refuses to run as root. As root we run it as the Debian `postgres` user, which
# cannot enter /root (mode 700), so its cluster lives in a directory that user owns.
if [[ $EUID -eq 0 ]]; then
  PG_DIR="${IPAM_SERVERS_PG_DIR:-/var/tmp/ipam-allocator/pg}"
else
  PG_DIR="${IPAM_SERVERS_PG_DIR:-$CACHE_DIR/pg}"
fi
PGDATA_DIR="$PG_DIR/data"

# Fixed, well-known test credentials (loopback-only throw-away servers).
ADMIN_USER="admin"
ADMIN_PASSWORD=ipam-allocator-admin
NAUTOBOT_TOKEN=ea1e0c7d5b3f4a2e9c8d7b6a5f4e3d2c1b0a9f8e             # 40 hex, header "Token <key>"
NETBOX_TOKEN_V1=5b3c0d9e8f7a6b5c4d3e2f1a0b9c8d7e6f5a4b3c            # 40 chars, header "Token <key>"
NETBOX_TOKEN_V2_KEY=ipamAllocKey                                     # 12 alnum
NETBOX_TOKEN_V2_SECRET=ipamAllocatorTestSecret0123456789abcdefgh    # 40 alnum
NETBOX_TOKEN_V2="nbt_${NETBOX_TOKEN_V2_KEY}.${NETBOX_TOKEN_V2_SECRET}" # header "Bearer nbt_<key>.<secret>"
NETBOX_PEPPER=ipam-allocator-test-pepper-0123456789abcdefghijklmnopqrstuvwxyz
SECRET_KEY='ipam-allocator-test-secret-key-0123456789abcdefghijklmnopqrstuvwxyz!@#%^&*(-_=+)'
DB_PASSWORD=ipam-allocator-db

# Stamp stored as the database COMMENT once setup finished; a match means "nothing to do".
stamp_for() { # server
  local v; v="$(version_of "$1")"
  printf 'ipam-allocator:%s-%s:%s' "$1" "$v" \
    "$(printf '%s' "$ADMIN_USER$ADMIN_PASSWORD$NAUTOBOT_TOKEN$NETBOX_TOKEN_V1$NETBOX_TOKEN_V2$NETBOX_PEPPER" | sha256sum | cut -c1-12)"
}

# --------------------------------------------------------------------------- helpers
log()  { printf '%s [servers] %s\n' "$(date +%H:%M:%S)" "$*"; }
warn() { printf '%s [servers] WARNING: %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die()  { printf '%s [servers] ERROR: %s\n' "$(date +%H:%M:%S)" "$*" >&2; exit 1; }

version_of() { case "$1" in nautobot) echo "$NAUTOBOT_VERSION" ;; netbox) echo "$NETBOX_VERSION" ;; esac; }
port_of()    { case "$1" in nautobot) echo "$NAUTOBOT_PORT" ;; netbox) echo "$NETBOX_PORT" ;; esac; }
venv_of()    { echo "$CACHE_DIR/venv/$1-$(version_of "$1")"; }
dump_of()    { echo "$CACHE_DIR/$1-$(version_of "$1").dump"; }
marker_of()  { echo "$CACHE_DIR/$1.unavailable"; }
srv_dir()    { echo "$RUN_DIR/$1"; }
pidfile_of() { echo "$RUN_DIR/$1/server.pid"; }
token_of()   { case "$1" in nautobot) echo "$NAUTOBOT_TOKEN" ;; netbox) echo "$NETBOX_TOKEN_V2" ;; esac; }
scheme_of()  { case "$1" in nautobot) echo "Token" ;; netbox) echo "Bearer" ;; esac; }

targets_of() { # arg -> list of servers
  case "${1:-all}" in
    all) echo "nautobot netbox" ;;
    nautobot|netbox) echo "$1" ;;
    *) die "unknown server '$1' (expected nautobot, netbox or all)" ;;
  esac
}

pg_bin() {
  local d
  for d in $(printf "%s\n" /usr/lib/postgresql/*/bin | sort -V -r); do
    [[ -x "$d/pg_ctl" ]] && { echo "$d"; return 0; }
  done
  return 1
}

# Run a PostgreSQL server-side tool as the cluster owner.
as_pg() {
  if [[ $EUID -eq 0 ]]; then
    (cd / && runuser -u postgres -- "$@")
  else
    "$@"
  fi
}

psql_admin() { # SQL... -- superuser over the private unix socket
  PGOPTIONS='-c client_min_messages=warning' as_pg "$PGBIN/psql" -h "$PG_DIR" -p "$PG_PORT" -U postgres -d postgres -v ON_ERROR_STOP=1 -qAtX "$@"
}

pid_alive() { [[ -n "${1:-}" ]] && kill -0 "$1" 2>/dev/null; }

http_code() { # url token scheme
  curl -s -o /dev/null -m 5 -w '%{http_code}' -H "Authorization: $3 $2" -H 'Accept: application/json' "$1" || true
}

port_in_use() { # port
  (exec 3<>"/dev/tcp/$HOST/$1") 2>/dev/null
}

# --------------------------------------------------------------------------- python discovery
pyenv_root() {
  if command -v pyenv >/dev/null 2>&1; then pyenv root; else echo "${PYENV_ROOT:-$HOME/.pyenv}"; fi
}

# Print the first interpreter whose "major.minor" is in the given list (in order of preference).
find_python() { # "3.11 3.12 ..."
  local want p root cand
  root="$(pyenv_root)"
  for want in $1; do
    for cand in $(printf "%s\n" "$root"/versions/"$want".*/bin/python3 | sort -V -r) \
                "$(command -v "python$want" 2>/dev/null || true)"; do
      [[ -n "$cand" && -x "$cand" ]] || continue
      p="$("$cand" -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null || true)"
      if [[ "$p" == "$want" ]] && "$cand" -c 'import venv, ensurepip' 2>/dev/null; then
        echo "$cand"; return 0
      fi
    done
  done
  return 1
}

python_for() {
  local forced
  forced="IPAM_SERVERS_${1^^}_PYTHON"
  if [[ -n "${!forced:-}" ]]; then   # explicit interpreter: use it if its version fits
    local v ok
    v="$("${!forced}" -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null || true)"
    case "$1" in
      nautobot) [[ "$v" =~ ^3\.1[0-4]$ ]] && ok=1 ;;
      netbox)   [[ "$v" =~ ^3\.1[2-9]$ ]] && ok=1 ;;
    esac
    if [[ -n "${ok:-}" ]]; then echo "${!forced}"; return 0; fi
    echo "$forced=${!forced} is Python '${v:-?}'" >&2
    return 1
  fi
  case "$1" in
    nautobot) find_python "3.11 3.12 3.13 3.10 3.14" ;;   # Nautobot 3.2: >=3.10,<3.15
    netbox)   find_python "3.12 3.13 3.14" ;;        # NetBox 4.7: >=3.12
  esac
}

# --------------------------------------------------------------------------- system packages
ensure_apt() {
  local missing=() 
  [[ -n "$(pg_bin || true)" ]] || missing+=(postgresql)
  command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
  command -v redis-cli >/dev/null 2>&1 || missing+=(redis-tools)
  command -v pg_config >/dev/null 2>&1 || missing+=(libpq-dev)   # NetBox builds psycopg[c]
  command -v curl >/dev/null 2>&1 || missing+=(curl)
  command -v jq >/dev/null 2>&1 || missing+=(jq)                   # smoke.sh
  command -v gcc >/dev/null 2>&1 || missing+=(gcc)
  if ((${#missing[@]})); then
    log "installing Debian packages: ${missing[*]}"
    local sudo=()
    [[ $EUID -eq 0 ]] || sudo=(sudo)
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fi
  PGBIN="$(pg_bin)" || die "PostgreSQL binaries not found under /usr/lib/postgresql/*/bin"
}

# --------------------------------------------------------------------------- postgres
pg_running() {
  [[ -n "${PGBIN:-}" ]] || PGBIN="$(pg_bin 2>/dev/null)" || return 1
  [[ -f "$PGDATA_DIR/PG_VERSION" ]] || return 1
  as_pg "$PGBIN/pg_ctl" -D "$PGDATA_DIR" status >/dev/null 2>&1
}

pg_init() {
  [[ -f "$PGDATA_DIR/PG_VERSION" ]] && return 0
  log "creating PostgreSQL cluster in $PGDATA_DIR (port $PG_PORT, 127.0.0.1 only)"
  mkdir -p "$PG_DIR"
  if [[ $EUID -eq 0 ]]; then chown postgres:postgres "$PG_DIR"; fi
  chmod 700 "$PG_DIR"
  rm -rf "$PGDATA_DIR"
  as_pg "$PGBIN/initdb" -D "$PGDATA_DIR" -U postgres -E UTF8 --no-locale \
    --auth-local=trust --auth-host=scram-sha-256 >"$PG_DIR/initdb.log" 2>&1 \
    || { cat "$PG_DIR/initdb.log" >&2; die "initdb failed"; }
  # Throw-away test cluster: durability traded for speed (the dumps are the real cache).
  as_pg tee -a "$PGDATA_DIR/postgresql.conf" >/dev/null <<EOF

# --- ipam-allocator test servers ---
listen_addresses = '127.0.0.1'
port = $PG_PORT
unix_socket_directories = '$PG_DIR'
max_connections = 200
shared_buffers = 256MB
fsync = off
synchronous_commit = off
full_page_writes = off
logging_collector = off
EOF
}

pg_start() {
  pg_init
  if pg_running; then return 0; fi
  if port_in_use "$PG_PORT"; then die "port $PG_PORT is already used by something else (set IPAM_SERVERS_PG_PORT)"; fi
  log "starting PostgreSQL on $HOST:$PG_PORT"
  as_pg "$PGBIN/pg_ctl" -D "$PGDATA_DIR" -l "$PG_DIR/postgresql.log" -w -t 60 start >/dev/null \
    || { tail -n 30 "$PG_DIR/postgresql.log" >&2 || true; die "PostgreSQL did not start"; }
}

pg_stop() {
  if pg_running; then
    log "stopping PostgreSQL"
    as_pg "$PGBIN/pg_ctl" -D "$PGDATA_DIR" -m fast -w -t 60 stop >/dev/null
  fi
}

# --------------------------------------------------------------------------- redis
redis_running() { [[ "$(redis-cli -h $HOST -p "$REDIS_PORT" ping 2>/dev/null || true)" == PONG ]]; }

redis_start() {
  if redis_running; then return 0; fi
  if port_in_use "$REDIS_PORT"; then die "port $REDIS_PORT is already used by something else (set IPAM_SERVERS_REDIS_PORT)"; fi
  mkdir -p "$RUN_DIR/redis"
  log "starting Redis on $HOST:$REDIS_PORT"
  redis-server --bind "$HOST" --port "$REDIS_PORT" --daemonize yes --protected-mode yes \
    --pidfile "$RUN_DIR/redis/redis.pid" --logfile "$RUN_DIR/redis/redis.log" \
    --dir "$RUN_DIR/redis" --save '' --appendonly no
  for _ in $(seq 1 50); do redis_running && return 0; sleep 0.1; done
  tail -n 20 "$RUN_DIR/redis/redis.log" >&2 || true
  die "Redis did not start"
}

redis_stop() {
  if redis_running; then
    log "stopping Redis"
    redis-cli -h $HOST -p "$REDIS_PORT" shutdown nosave >/dev/null 2>&1 || true
    local pid
    pid="$(cat "$RUN_DIR/redis/redis.pid" 2>/dev/null || true)"
    for _ in $(seq 1 50); do pid_alive "$pid" || break; sleep 0.1; done
    if pid_alive "$pid"; then kill "$pid" 2>/dev/null || true; fi
  fi
}

redis_db_of() { case "$1" in nautobot) echo "0 1" ;; netbox) echo "2 3" ;; esac; }

redis_flush() { # server
  local db
  redis_running || return 0
  for db in $(redis_db_of "$1"); do redis-cli -h $HOST -p "$REDIS_PORT" -n "$db" flushdb >/dev/null; done
}

# --------------------------------------------------------------------------- databases
db_exists() { [[ "$(psql_admin -c "SELECT 1 FROM pg_database WHERE datname='$1'")" == 1 ]]; }
db_stamp()  { psql_admin -c "SELECT coalesce(shobj_description(oid, 'pg_database'), '') FROM pg_database WHERE datname='$1'"; }
set_stamp() { psql_admin -c "COMMENT ON DATABASE $1 IS '$(stamp_for "$1")'"; }

ensure_role() { # name
  psql_admin <<EOF
DO \$\$ BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '$1') THEN
    CREATE ROLE $1 LOGIN CREATEDB PASSWORD '$DB_PASSWORD';
  ELSE
    ALTER ROLE $1 LOGIN CREATEDB PASSWORD '$DB_PASSWORD';
  END IF;
END \$\$;
EOF
}

recreate_db() { # name
  psql_admin -c "DROP DATABASE IF EXISTS $1 WITH (FORCE)"
  psql_admin -c "CREATE DATABASE $1 OWNER $1 ENCODING 'UTF8' TEMPLATE template0"
}

restore_db() { # server
  local dump; dump="$(dump_of "$1")"
  recreate_db "$1"
  PGPASSWORD="$DB_PASSWORD" "$PGBIN/pg_restore" -h $HOST -p "$PG_PORT" -U "$1" -d "$1" \
    --no-owner --no-privileges --exit-on-error -j 2 "$dump"
}

dump_db() { # server
  local dump; dump="$(dump_of "$1")"
  PGPASSWORD="$DB_PASSWORD" "$PGBIN/pg_dump" -h $HOST -p "$PG_PORT" -U "$1" -d "$1" -Fc -f "$dump.tmp"
  mv -f "$dump.tmp" "$dump"
  stamp_for "$1" >"$dump.stamp"
}

dump_valid() { # server
  local dump; dump="$(dump_of "$1")"
  [[ -s "$dump" && -f "$dump.stamp" && "$(cat "$dump.stamp")" == "$(stamp_for "$1")" ]]
}

# --------------------------------------------------------------------------- per-server config
write_config() { # server
  local d; d="$(srv_dir "$1")"
  mkdir -p "$d"
  case "$1" in
    nautobot)
      cat >"$d/nautobot_config.py" <<EOF
# Generated by tests/servers/servers.sh -- loopback-only test instance. Do not edit.
import os

# Read by nautobot.core.settings (Redis URLs for CACHES, CELERY_BROKER_URL, ...).
os.environ["NAUTOBOT_REDIS_HOST"] = "$HOST"
os.environ["NAUTOBOT_REDIS_PORT"] = "$REDIS_PORT"
os.environ["NAUTOBOT_INSTALLATION_METRICS_ENABLED"] = "False"

from nautobot.core.settings import *  # noqa: E402,F401,F403

ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
SECRET_KEY = "$SECRET_KEY"
INSTALLATION_METRICS_ENABLED = False
DEBUG = False
DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": "nautobot",
        "USER": "nautobot",
        "PASSWORD": "$DB_PASSWORD",
        "HOST": "$HOST",
        "PORT": "$PG_PORT",
        "CONN_MAX_AGE": 0,
    }
}
CACHES["default"]["LOCATION"] = "redis://$HOST:$REDIS_PORT/1"
CELERY_BROKER_URL = "redis://$HOST:$REDIS_PORT/0"
EOF
      ;;
    netbox)
      mkdir -p "$d/conf"
      : >"$d/conf/__init__.py"
      cat >"$d/conf/configuration.py" <<EOF
# Generated by tests/servers/servers.sh -- loopback-only test instance. Do not edit.
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": "netbox",
        "USER": "netbox",
        "PASSWORD": "$DB_PASSWORD",
        "HOST": "$HOST",
        "PORT": "$PG_PORT",
        "CONN_MAX_AGE": 0,
    }
}
REDIS = {
    "tasks": {"HOST": "$HOST", "PORT": $REDIS_PORT, "USERNAME": "", "PASSWORD": "", "DATABASE": 2, "SSL": False},
    "caching": {"HOST": "$HOST", "PORT": $REDIS_PORT, "USERNAME": "", "PASSWORD": "", "DATABASE": 3, "SSL": False},
}
SECRET_KEY = "$SECRET_KEY"
API_TOKEN_PEPPERS = {1: "$NETBOX_PEPPER"}
DEBUG = False
# Nothing may leave this machine.
CENSUS_REPORTING_ENABLED = False
ISOLATED_DEPLOYMENT = True
RELEASE_CHECK_URL = None
EOF
      ;;
  esac
}

# Run a command with the environment the server's own tools need.
with_env() { # server cmd...
  local s="$1" d; shift
  d="$(srv_dir "$s")"
  case "$s" in
    nautobot) env NAUTOBOT_ROOT="$d" NAUTOBOT_CONFIG="$d/nautobot_config.py" "$@" ;;
    netbox)   env NETBOX_ROOT="$d" DJANGO_SETTINGS_MODULE=netbox.settings "$@" ;;
  esac
}

# Same, replacing the current (sub)shell so that $! of `( ... ) &` is the server's pid.
exec_with_env() { # server cmd...
  local s="$1" d; shift
  d="$(srv_dir "$s")"
  case "$s" in
    nautobot) exec env NAUTOBOT_ROOT="$d" NAUTOBOT_CONFIG="$d/nautobot_config.py" "$@" ;;
    netbox)   exec env NETBOX_ROOT="$d" DJANGO_SETTINGS_MODULE=netbox.settings "$@" ;;
  esac
}

manage() { # server args... -- run nautobot-server / netbox management commands
  local s="$1"; shift
  local v; v="$(venv_of "$s")"
  case "$s" in
    nautobot) with_env "$s" "$v/bin/nautobot-server" "$@" ;;
    netbox)   (cd "$(srv_dir "$s")" && with_env "$s" "$v/bin/netbox" "$@") ;;
  esac
}

# Create (or repair) the superuser and the API token(s) with the fixed keys.
ensure_admin() { # server
  local s="$1" v; v="$(venv_of "$s")"
  case "$s" in
    nautobot)
      with_env "$s" ADMIN_USER="$ADMIN_USER" ADMIN_PASSWORD="$ADMIN_PASSWORD" TOKEN="$NAUTOBOT_TOKEN" \
        "$v/bin/python" - <<'EOF'
import os
import nautobot
nautobot.setup()
from django.contrib.auth import get_user_model
from nautobot.users.models import Token
User = get_user_model()
user, _ = User.objects.get_or_create(username=os.environ["ADMIN_USER"])
user.is_superuser = user.is_staff = user.is_active = True
user.set_password(os.environ["ADMIN_PASSWORD"])
user.save()
# Token.key is a "sensitive field": it can be filtered on but never read back.
if not Token.objects.filter(key=os.environ["TOKEN"]).exists():
    Token.objects.create(user=user, key=os.environ["TOKEN"], description="ipam-allocator integration tests")
print("nautobot: superuser %r and API token ready" % user.username)
EOF
      ;;
    netbox)
      (cd "$(srv_dir "$s")" && with_env "$s" ADMIN_USER="$ADMIN_USER" ADMIN_PASSWORD="$ADMIN_PASSWORD" \
        TOKEN_V1="$NETBOX_TOKEN_V1" TOKEN_V2_KEY="$NETBOX_TOKEN_V2_KEY" TOKEN_V2_SECRET="$NETBOX_TOKEN_V2_SECRET" \
        "$v/bin/python" - <<'EOF'
import os
import django
django.setup()
from django.contrib.auth import get_user_model
from users.models import Token
User = get_user_model()
user, _ = User.objects.get_or_create(username=os.environ["ADMIN_USER"])
user.is_superuser = user.is_staff = user.is_active = True
user.set_password(os.environ["ADMIN_PASSWORD"])
user.save()
# v1 (legacy) token: header "Token <40 chars>"; stored in plaintext.
if not Token.objects.filter(version=1, plaintext=os.environ["TOKEN_V1"]).exists():
    Token(version=1, user=user, token=os.environ["TOKEN_V1"], description="ipam-allocator tests (v1)").save()
# v2 token: header "Bearer nbt_<key>.<secret>"; only an HMAC of the secret (with API_TOKEN_PEPPERS) is stored.
t = Token.objects.filter(version=2, key=os.environ["TOKEN_V2_KEY"]).first()
if t is not None and not t.validate(os.environ["TOKEN_V2_SECRET"]):
    t.delete()
    t = None
if t is None:
    Token(version=2, user=user, key=os.environ["TOKEN_V2_KEY"], token=os.environ["TOKEN_V2_SECRET"],
          description="ipam-allocator tests (v2)").save()
print("netbox: superuser %r and API tokens (v1, v2) ready" % user.username)
EOF
      )
      ;;
  esac
}

# --------------------------------------------------------------------------- setup
ensure_venv() { # server python
  local s="$1" py="$2" v; v="$(venv_of "$s")"
  if [[ -f "$v/.ipam-allocator-complete" ]]; then return 0; fi
  log "$s: creating venv $v with $py ($("$py" -V 2>&1))"
  rm -rf "$v"
  mkdir -p "$(dirname "$v")" "$LOG_DIR"
  "$py" -m venv "$v"
  local piplog="$LOG_DIR/$s-pip.log"
  : >"$piplog"
  "$v/bin/python" -m pip install --disable-pip-version-check --upgrade pip >>"$piplog" 2>&1 \
    || { tail -n 30 "$piplog" >&2; die "$s: pip upgrade failed (log: $piplog)"; }
  log "$s: pip install $s==$(version_of "$s") (about 1 min; log: $piplog)"
  "$v/bin/python" -m pip install --disable-pip-version-check "$s==$(version_of "$s")" >>"$piplog" 2>&1 \
    || { grep -v 'WARNING: Location' "$piplog" | tail -n 30 >&2; die "$s: pip install failed (log: $piplog)"; }
  "$v/bin/python" -m pip freeze --disable-pip-version-check >"$v/requirements.freeze.txt"
  touch "$v/.ipam-allocator-complete"
}

setup_one() { # server  (pg + redis already running)
  local s="$1" t0=$SECONDS py reason
  if ! py="$(python_for "$s" 2>/dev/null)"; then
    local forced="IPAM_SERVERS_${s^^}_PYTHON"
    case "$s" in
      netbox) reason="no Python >= 3.12 found (NetBox $(version_of netbox) requires it)" ;;
      *)      reason="no Python 3.10-3.14 found (Nautobot $(version_of nautobot) requires one)" ;;
    esac
    if [[ -n "${!forced:-}" ]]; then
      reason="$reason: $(python_for "$s" 2>&1 >/dev/null || true)"
    else
      reason="$reason: looked in $(pyenv_root)/versions/3.*/bin/python3 and python3.X on PATH"
    fi
    mark_unavailable "$s" "$reason"
    return 3
  fi
  ensure_venv "$s" "$py"
  write_config "$s"
  ensure_role "$s"
  if db_exists "$s" && [[ "$(db_stamp "$s")" == "$(stamp_for "$s")" ]]; then
    log "$s: database already set up ($(stamp_for "$s")), nothing to do"
  elif dump_valid "$s"; then
    log "$s: restoring database from cached dump $(dump_of "$s")"
    restore_db "$s"
    redis_flush "$s"
    set_stamp "$s"
  else
    log "$s: creating database and running migrations (slow: ~5 min, only once per version)"
    recreate_db "$s"
    redis_flush "$s"
    local tm=$SECONDS
    manage "$s" migrate --no-input >"$LOG_DIR/$s-migrate.log" 2>&1 \
      || { tail -n 40 "$LOG_DIR/$s-migrate.log" >&2; die "$s: migrate failed (log: $LOG_DIR/$s-migrate.log)"; }
    log "$s: migrations done in $((SECONDS - tm)) s"
    ensure_admin "$s"
    log "$s: caching database dump in $(dump_of "$s")"
    dump_db "$s"
    set_stamp "$s"
  fi
  rm -f "$(marker_of "$s")"
  log "$s: setup complete in $((SECONDS - t0)) s"
}

mark_unavailable() { # server reason
  mkdir -p "$CACHE_DIR"
  printf '%s\n' "$2" >"$(marker_of "$1")"
  warn "$1 is unavailable: $2 (marker: $(marker_of "$1"))"
}

cmd_setup() {
  local targets t0=$SECONDS
  targets="$(targets_of "${1:-all}")"
  mkdir -p "$CACHE_DIR" "$RUN_DIR" "$LOG_DIR"
  ensure_apt
  pg_start
  redis_start
  local s
  if [[ "$targets" == *" "* ]]; then
    # Both servers: run the two setups (pip installs, migrations) in parallel.
    local -A pids=()
    for s in $targets; do
      ( set -o pipefail; setup_one "$s" 2>&1 | tee "$LOG_DIR/$s-setup.log" | sed -u "s/^/[$s] /" ) &
      pids[$s]=$!
    done
    local ok=0 rc
    for s in $targets; do
      rc=0; wait "${pids[$s]}" || rc=$?
      if ((rc == 0)); then
        ok=$((ok + 1))
      elif [[ ! -f "$(marker_of "$s")" ]]; then
        mark_unavailable "$s" "setup failed (exit $rc): $(grep -v '^\s*$' "$LOG_DIR/$s-setup.log" | tail -n 1 | cut -c1-300) -- see $LOG_DIR/$s-setup.log"
      fi
    done
    log "setup finished in $((SECONDS - t0)) s ($ok of 2 servers ready)"
    ((ok > 0)) || die "no server could be set up"
  else
    s="$targets"
    local rc=0
    ( setup_one "$s" ) 2>&1 | tee "$LOG_DIR/$s-setup.log" || rc=$?
    if ((rc != 0)); then
      [[ -f "$(marker_of "$s")" ]] || mark_unavailable "$s" "setup failed (exit $rc) -- see $LOG_DIR/$s-setup.log"
      exit 1
    fi
    log "setup finished in $((SECONDS - t0)) s"
  fi
}

# --------------------------------------------------------------------------- start / stop
server_pid() { cat "$(pidfile_of "$1")" 2>/dev/null || true; }
server_running() { pid_alive "$(server_pid "$1")"; }

start_one() { # server
  local s="$1" d port v pid log
  d="$(srv_dir "$s")"; port="$(port_of "$s")"; v="$(venv_of "$s")"; log="$d/server.log"
  if [[ -f "$(marker_of "$s")" ]]; then
    warn "$s is unavailable, not starting it: $(cat "$(marker_of "$s")")"
    return 0
  fi
  [[ -f "$v/.ipam-allocator-complete" ]] || die "$s is not set up: run '$0 setup $s' first"
  db_exists "$s" || die "$s database is missing: run '$0 setup $s' first"
  if server_running "$s"; then
    log "$s already running (pid $(server_pid "$s")) on http://$HOST:$port"
  else
    if port_in_use "$port"; then die "port $port is already used by something else (set IPAM_SERVERS_${s^^}_PORT)"; fi
    write_config "$s"
    log "starting $s $(version_of "$s") on http://$HOST:$port"
    : >"$log"
    # setsid: the server gets its own process group (pgid == pid), so stop can end exactly that group.
    case "$s" in
      nautobot)
        ( cd "$d" && exec_with_env "$s" setsid "$v/bin/nautobot-server" start \
            --http "$HOST:$port" --master --processes "$NAUTOBOT_WORKERS" --enable-threads \
            --die-on-term --need-app --harakiri 300 --buffer-size 16384 --disable-logging \
            --http-keepalive --add-header "Connection: Keep-Alive" \
            </dev/null >>"$log" 2>&1 ) &
        ;;
      netbox)
        ( cd "$d" && exec_with_env "$s" setsid "$v/bin/gunicorn" --bind "$HOST:$port" \
            --workers "$NETBOX_WORKERS" --timeout 300 --graceful-timeout 10 --no-control-socket \
            --error-logfile - netbox.wsgi:application </dev/null >>"$log" 2>&1 ) &
        ;;
    esac
    pid=$!
    echo "$pid" >"$(pidfile_of "$s")"
  fi
}

wait_ready() { # server [start time in $SECONDS]
  local s="$1" port url token scheme code=000 t0="${2:-$SECONDS}" pid
  port="$(port_of "$s")"; url="http://$HOST:$port/api/status/"
  token="$(token_of "$s")"; scheme="$(scheme_of "$s")"
  [[ -f "$(marker_of "$s")" ]] && return 0
  while ((SECONDS - t0 < START_TIMEOUT)); do
    pid="$(server_pid "$s")"
    if ! pid_alive "$pid"; then
      tail -n 40 "$(srv_dir "$s")/server.log" >&2 || true
      rm -f "$(pidfile_of "$s")"
      die "$s exited during startup (log above: $(srv_dir "$s")/server.log)"
    fi
    code="$(http_code "$url" "$token" "$scheme")"
    if [[ "$code" == 200 ]]; then
      log "$s ready in $((SECONDS - t0)) s: $url answered 200"
      return 0
    fi
    sleep 1
  done
  tail -n 40 "$(srv_dir "$s")/server.log" >&2 || true
  stop_one "$s" >&2
  die "$s not ready after ${START_TIMEOUT}s (last HTTP status of $url: $code; log above: $(srv_dir "$s")/server.log)"
}

cmd_start() {
  local targets s t0=$SECONDS
  targets="$(targets_of "${1:-all}")"
  mkdir -p "$RUN_DIR" "$LOG_DIR"
  PGBIN="$(pg_bin)" || die "PostgreSQL is not installed: run '$0 setup' first"
  [[ -f "$PGDATA_DIR/PG_VERSION" ]] || die "no PostgreSQL cluster in $PGDATA_DIR: run '$0 setup' first"
  pg_start
  redis_start
  for s in $targets; do start_one "$s"; done
  for s in $targets; do wait_ready "$s" "$t0"; done
  log "start finished in $((SECONDS - t0)) s"
}

stop_one() { # server
  local s="$1" pid
  pid="$(server_pid "$s")"
  if pid_alive "$pid"; then
    log "stopping $s (pid $pid)"
    kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 200); do
      pid_alive "$pid" || break
      sleep 0.1
    done
    if pid_alive "$pid"; then
      warn "$s did not stop within 20 s, killing its process group"
      kill -KILL -- "-$pid" 2>/dev/null || true
    fi
    # Workers left behind in the group (should not happen, but never leave strays).
    sleep 0.2
    if pgrep -g "$pid" >/dev/null 2>&1; then kill -KILL -- "-$pid" 2>/dev/null || true; fi
  fi
  rm -f "$(pidfile_of "$s")"
}

cmd_stop() {
  local targets s other_running=0
  targets="$(targets_of "${1:-all}")"
  for s in $targets; do stop_one "$s"; done
  for s in nautobot netbox; do server_running "$s" && other_running=1; done
  if ((other_running)); then
    log "another server is still running: leaving PostgreSQL and Redis up"
  else
    redis_stop
    pg_stop
  fi
}

# --------------------------------------------------------------------------- status / env / reset
cmd_status() {
  local s port code
  if pg_running; then echo "postgresql: running on $HOST:$PG_PORT (data: $PGDATA_DIR)"; else echo "postgresql: stopped (data: $PGDATA_DIR)"; fi
  if redis_running; then echo "redis:      running on $HOST:$REDIS_PORT"; else echo "redis:      stopped"; fi
  for s in nautobot netbox; do
    port="$(port_of "$s")"
    if [[ -f "$(marker_of "$s")" ]]; then
      echo "$s: UNAVAILABLE: $(cat "$(marker_of "$s")")"
      continue
    fi
    local setup="not set up"
    if [[ -f "$(venv_of "$s")/.ipam-allocator-complete" ]] && dump_valid "$s"; then setup="set up"; fi
    if server_running "$s"; then
      code="$(http_code "http://$HOST:$port/api/status/" "$(token_of "$s")" "$(scheme_of "$s")")"
      echo "$s: running (pid $(server_pid "$s")) on http://$HOST:$port, /api/status/ -> HTTP $code, $setup, version $(version_of "$s")"
    else
      echo "$s: stopped, $setup, version $(version_of "$s"), port $port"
    fi
  done
}

cmd_env() {
  echo "# ipam.allocator test servers (tests/servers/servers.sh); all on 127.0.0.1"
  if [[ -f "$(marker_of nautobot)" ]]; then
    echo "# Nautobot unavailable: $(cat "$(marker_of nautobot)")"
  else
    echo "# Nautobot $NAUTOBOT_VERSION: send header 'Authorization: Token \$IPAM_TEST_NAUTOBOT_TOKEN'"
    echo "export IPAM_TEST_NAUTOBOT_URL=http://$HOST:$NAUTOBOT_PORT"
    echo "export IPAM_TEST_NAUTOBOT_TOKEN=$NAUTOBOT_TOKEN"
    echo "export IPAM_TEST_NAUTOBOT_AUTH_SCHEME=Token"
    echo "export IPAM_TEST_NAUTOBOT_VERSION=$NAUTOBOT_VERSION"
  fi
  if [[ -f "$(marker_of netbox)" ]]; then
    echo "# NetBox unavailable: $(cat "$(marker_of netbox)")"
  else
    echo "# NetBox $NETBOX_VERSION: send header 'Authorization: Bearer \$IPAM_TEST_NETBOX_TOKEN' (v2 token, starts with nbt_);"
    echo "# the legacy v1 token works with 'Authorization: Token \$IPAM_TEST_NETBOX_TOKEN_V1'"
    echo "export IPAM_TEST_NETBOX_URL=http://$HOST:$NETBOX_PORT"
    echo "export IPAM_TEST_NETBOX_TOKEN=$NETBOX_TOKEN_V2"
    echo "export IPAM_TEST_NETBOX_AUTH_SCHEME=Bearer"
    echo "export IPAM_TEST_NETBOX_TOKEN_V1=$NETBOX_TOKEN_V1"
    echo "export IPAM_TEST_NETBOX_AUTH_SCHEME_V1=Token"
    echo "export IPAM_TEST_NETBOX_VERSION=$NETBOX_VERSION"
  fi
}

cmd_reset_data() {
  local targets s t0=$SECONDS
  targets="$(targets_of "${1:-all}")"
  PGBIN="$(pg_bin)" || die "PostgreSQL is not installed: run '$0 setup' first"
  pg_start
  for s in $targets; do
    if [[ -f "$(marker_of "$s")" ]]; then warn "$s unavailable, skipped"; continue; fi
    dump_valid "$s" || die "$s has no cached dump: run '$0 setup $s' first"
    restore_db "$s"
    redis_flush "$s"
    set_stamp "$s"
    log "$s: data reset to the post-setup state"
  done
  log "reset-data finished in $((SECONDS - t0)) s"
}

usage() {
  sed -n '2,14p' "$0" | sed 's/^# \{0,1\}//'
}

main() {
  local cmd="${1:-}"
  [[ $# -gt 0 ]] && shift
  case "$cmd" in
    setup)      cmd_setup "$@" ;;
    start)      cmd_start "$@" ;;
    stop)       cmd_stop "$@" ;;
    status)     cmd_status ;;
    env)        cmd_env ;;
    reset-data) cmd_reset_data "$@" ;;
    -h|--help|help) usage ;;
    *) usage >&2; exit 2 ;;
  esac
}

main "$@"
