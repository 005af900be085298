#!/usr/bin/env bash
# A throwaway PostgreSQL server on loopback, in a folder of its own, for the tests, the drill
# and the benchmark (and for a person trying the fleet):
#   scripts/postgres-sandbox.sh start DIR [PORT]   # prints postgres://sfr@127.0.0.1:PORT/postgres
#   scripts/postgres-sandbox.sh stop DIR
#   scripts/postgres-sandbox.sh crash DIR           # stop -m immediate: a crash, recovered at the next start
# PostgreSQL comes from Debian's packages; when it is missing and this runs as root, it is
# installed. The cluster trusts connections from 127.0.0.1 only, and lives until `stop`.
set -euo pipefail
command="${1:-}"
dir="${2:-}"
[ -n "$command" ] && [ -n "$dir" ] || { echo "usage: $0 start|stop|crash DIR [PORT]" >&2; exit 2; }

bindir() {
  local found
  found="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1 || true)"
  if [ -z "$found" ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "postgres-sandbox: installing PostgreSQL from Debian's packages" >&2
    apt-get update -qq >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >&2
    found="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1 || true)"
  fi
  [ -n "$found" ] || { echo "postgres-sandbox: PostgreSQL is not installed (apt-get install postgresql)" >&2; exit 1; }
  echo "$found"
}

# initdb and the server refuse to run as root: as root, they run as the postgres user.
as_owner() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

case "$command" in
  start)
    bin="$(bindir)"
    port="${3:-$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')}"
    mkdir -p "$dir"
    [ "$(id -u)" = 0 ] && chown postgres "$dir"
    if [ ! -f "$dir/data/PG_VERSION" ]; then
      as_owner "$bin/initdb" -D "$dir/data" -U sfr --auth=trust -E UTF8 --no-sync >"$dir/initdb.log" 2>&1 \
        || { cat "$dir/initdb.log" >&2; exit 1; }
    fi
    # The server outlives this script: it must not keep a descriptor its starter waits on (a
    # parent that watches for this script's end through an inherited socket or pipe, as
    # Foundation's Process does, would wait for ever). Everything above 2 is closed first.
    (
      for fd in /proc/self/fd/*; do
        fd="${fd##*/}"
        [ "$fd" -gt 2 ] 2>/dev/null && eval "exec $fd>&-" 2>/dev/null || true
      done
      as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w \
        -o "-p $port -c listen_addresses=127.0.0.1 -k $dir -c max_connections=200" start >/dev/null
    ) || { cat "$dir/server.log" >&2; exit 1; }
    echo "postgres://sfr@127.0.0.1:$port/postgres"
    ;;
  stop)
    bin="$(bindir)"
    [ -f "$dir/data/postmaster.pid" ] && as_owner "$bin/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null || true
    ;;
  crash)
    bin="$(bindir)"
    as_owner "$bin/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null
    ;;
  *)
    echo "usage: $0 start|stop|crash DIR [PORT]" >&2
    exit 2
    ;;
esac
