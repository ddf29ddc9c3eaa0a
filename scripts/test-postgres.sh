# Sourced by scripts/test: starts a throwaway PostgreSQL server on a loopback port for the tests and exports
# ORCHESTRATOR_TEST_POSTGRES (a postgres:// URL). The server and its folder go away when the script exits.
# ORCHESTRATOR_TEST_POSTGRES_OPTIONS adds server options (scripts/bench: `-c shared_preload_libraries=pg_stat_statements`).

start_test_postgres() {
    local bin
    bin="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)"
    if [ -z "$bin" ] || [ ! -x "$bin/initdb" ]; then
        echo "error: PostgreSQL server binaries not found under /usr/lib/postgresql" >&2
        return 1
    fi
    PG_DIR="$(mktemp -d /tmp/orchestrator-pg.XXXXXX)"
    # A free port, so that a server left behind by a killed run or another checkout does not get in the way.
    local port="${ORCHESTRATOR_TEST_POSTGRES_PORT:-$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])' 2>/dev/null || echo 55432)}"
    # PostgreSQL refuses to run as root: run it as the postgres user when we are root.
    local as=()
    if [ "$(id -u)" -eq 0 ]; then
        chown postgres "$PG_DIR"
        as=(runuser -u postgres --)
    fi
    "${as[@]}" "$bin/initdb" -D "$PG_DIR/data" -U postgres -A trust -E UTF8 --no-locale >"$PG_DIR/initdb.log" 2>&1 || {
        cat "$PG_DIR/initdb.log" >&2; return 1; }
    # Everyone is trusted except one role that must give its password, so that tests can see a wrong password refused.
    sed -i '1i host all orchestrator_password_test 127.0.0.1/32 scram-sha-256' "$PG_DIR/data/pg_hba.conf"
    "${as[@]}" "$bin/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/server.log" -w -t 60 \
        -o "-c listen_addresses=127.0.0.1 -p $port -k $PG_DIR -c fsync=off -c full_page_writes=off ${ORCHESTRATOR_TEST_POSTGRES_OPTIONS:-}" start >/dev/null || {
        cat "$PG_DIR/server.log" >&2; return 1; }
    PG_STOP=("${as[@]}" "$bin/pg_ctl" -D "$PG_DIR/data" -m fast stop)
    export ORCHESTRATOR_TEST_POSTGRES="postgres://postgres@127.0.0.1:$port/postgres"
    echo "test PostgreSQL on 127.0.0.1:$port" >&2
}

stop_test_postgres() {
    if [ -n "${PG_DIR:-}" ]; then
        "${PG_STOP[@]}" >/dev/null 2>&1 || true
        rm -rf "$PG_DIR"
    fi
}
