# A throwaway PostgreSQL server for the tests of the service's store on
# PostgreSQL. Source it (`. scripts/postgres.sh`): it installs Debian's
# postgresql package when initdb is missing, creates a cluster under a
# temporary folder (owned by the postgres user when this runs as root:
# PostgreSQL refuses to run as root), starts it on a Unix socket in that
# folder (no TCP port, so runs never collide), exports
# YIELDVAULT_TEST_POSTGRES (the URL the tests use) and stops and removes it
# when the sourcing shell exits.

yv_pg_bin() {
  if command -v initdb >/dev/null 2>&1 && command -v pg_ctl >/dev/null 2>&1; then
    dirname "$(command -v pg_ctl)"
    return
  fi
  { ls -d /usr/lib/postgresql/*/bin 2>/dev/null || true; } | sort -V | tail -1
}

yv_pg_start() {
  local bin dir sudo="" run=""
  bin=$(yv_pg_bin || true)
  if [ -z "$bin" ] || [ ! -x "$bin/initdb" ]; then
    if [ "$(id -u)" != 0 ] && command -v sudo >/dev/null 2>&1; then sudo="sudo"; fi
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq postgresql >/dev/null
    bin=$(yv_pg_bin || true)
  fi
  if [ -z "$bin" ] || [ ! -x "$bin/initdb" ]; then
    echo "postgres: no initdb after installing Debian's postgresql package" >&2
    return 1
  fi
  dir=$(mktemp -d /tmp/yvpg.XXXXXX)
  if [ "$(id -u)" = 0 ]; then
    id postgres >/dev/null 2>&1 || useradd --system --no-create-home postgres
    chown postgres "$dir"
    run="runuser -u postgres --"
  fi
  $run "$bin/initdb" -D "$dir/data" -U yieldvault -A trust -E UTF8 --no-sync >"$dir/initdb.log" 2>&1 || {
    cat "$dir/initdb.log" >&2
    return 1
  }
  $run "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
    -o "-c listen_addresses='' -k $dir -c fsync=off -c max_connections=200" start >/dev/null || {
    cat "$dir/server.log" >&2
    return 1
  }
  YV_PG_DIR=$dir
  YV_PG_RUN=$run
  YV_PG_CTL=$bin/pg_ctl
  export YIELDVAULT_TEST_POSTGRES="postgres://yieldvault@/postgres?host=$dir&sslmode=disable"
  trap 'yv_pg_stop' EXIT
  echo "postgres: $("$bin/postgres" --version) at $YIELDVAULT_TEST_POSTGRES"
}

yv_pg_stop() {
  [ -n "${YV_PG_DIR:-}" ] || return 0
  $YV_PG_RUN "$YV_PG_CTL" -D "$YV_PG_DIR/data" -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$YV_PG_DIR"
  YV_PG_DIR=""
}

yv_pg_start
