# Sourced by scripts/test: starts a throwaway S3-compatible server (moto) on a loopback port for the tests and
# exports ORCHESTRATOR_TEST_S3_ENDPOINT (http://127.0.0.1:PORT; any non-empty key pair is accepted). The server
# and its log go away when the script exits (stop_test_s3, chained in scripts/test's EXIT trap).

# moto's server (Flask/werkzeug) from pip when this Python lacks it, pinned to the version the tests were written
# against. Debian's system Python refuses pip installs outside a virtualenv unless told --break-system-packages.
ensure_moto_server() {
    if python3 -c 'import moto.server' >/dev/null 2>&1; then
        return 0
    fi
    echo "installing: moto[server] (pip)" >&2
    if ! python3 -m pip --version >/dev/null 2>&1; then
        ensure_apt_packages python3-pip
    fi
    python3 -m pip install --quiet --disable-pip-version-check 'moto[server]==5.2.1' >&2 2>/dev/null \
        || python3 -m pip install --quiet --disable-pip-version-check --break-system-packages 'moto[server]==5.2.1' >&2
}

start_test_s3() {
    ensure_moto_server || { echo "error: cannot install moto's server (pip install 'moto[server]')" >&2; return 1; }
    S3_DIR="$(mktemp -d /tmp/orchestrator-s3.XXXXXX)"
    # A free port may be taken between the probe and moto's bind (another test run, a test's own server): moto then
    # exits at once, and it starts again on a new port.
    local attempt
    for attempt in 1 2 3 4; do
        if try_start_test_s3; then return 0; fi
        if [ -n "${ORCHESTRATOR_TEST_S3_PORT:-}" ]; then break; fi
        echo "the moto S3 server did not come up; trying another port" >&2
    done
    echo "error: the moto S3 server did not start (log: $S3_DIR/server.log)" >&2
    cat "$S3_DIR/server.log" >&2
    return 1
}

# One start on one port: 0 once moto answers there, 1 (and no server left) when it exits or does not answer.
try_start_test_s3() {
    local port="${ORCHESTRATOR_TEST_S3_PORT:-$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')}"
    python3 -m moto.server -H 127.0.0.1 -p "$port" >"$S3_DIR/server.log" 2>&1 &
    S3_PID=$!
    local tries=0
    # moto answers GET / with its bucket listing once it is up (a few seconds: it imports every AWS service).
    until python3 -c "import urllib.request, sys; urllib.request.urlopen('http://127.0.0.1:$port/', timeout=1)" >/dev/null 2>&1; do
        tries=$((tries + 1))
        if [ "$tries" -ge 120 ] || ! kill -0 "$S3_PID" 2>/dev/null; then
            kill "$S3_PID" 2>/dev/null || true
            wait "$S3_PID" 2>/dev/null || true
            S3_PID=""
            return 1
        fi
        sleep 0.25
    done
    # Answered, but by moto? If it exited (port taken) something else answered.
    if ! kill -0 "$S3_PID" 2>/dev/null; then S3_PID=""; return 1; fi
    export ORCHESTRATOR_TEST_S3_ENDPOINT="http://127.0.0.1:$port"
    echo "test S3 (moto) on 127.0.0.1:$port" >&2
}

stop_test_s3() {
    if [ -n "${S3_PID:-}" ]; then
        kill "$S3_PID" 2>/dev/null || true
        wait "$S3_PID" 2>/dev/null || true
    fi
    if [ -n "${S3_DIR:-}" ]; then rm -rf "$S3_DIR"; fi
}
