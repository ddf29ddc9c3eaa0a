# Shared by scripts/run, scripts/test and scripts/bench: install what a fresh
# Debian machine lacks. Sourced, not executed.

# Debian packages the build and the tests need; each is installed only if missing.
ORCHESTRATOR_APT_PACKAGES="${ORCHESTRATOR_APT_PACKAGES:-libsqlite3-dev sqlite3 libpq-dev libcurl4-openssl-dev pkg-config}"
# Only the tests need a PostgreSQL server (started on a loopback port by scripts/test) and its client.
ORCHESTRATOR_TEST_APT_PACKAGES="${ORCHESTRATOR_TEST_APT_PACKAGES:-postgresql postgresql-client python3 systemd chromium fonts-dejavu-core}"

ensure_apt_packages() {
    local missing=()
    local pkg
    for pkg in "$@"; do
        if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; then
            missing+=("$pkg")
        fi
    done
    if [ "${#missing[@]}" -eq 0 ]; then
        return 0
    fi
    echo "installing: ${missing[*]}" >&2
    local sudo=""
    if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
    $sudo apt-get update -qq >&2 || true
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
}

ensure_swift() {
    if ! command -v swift >/dev/null 2>&1; then
        if [ -x /opt/swift/usr/bin/swift ]; then
            export PATH="/opt/swift/usr/bin:$PATH"
        else
            echo "error: swift is not installed (expected on PATH or in /opt/swift); see https://www.swift.org/install/linux/" >&2
            exit 1
        fi
    fi
}

# Release binaries, each product on its own: the worker is linked fully static (Package.swift), and with that
# flag a plain `swift build` also tries to link the dependencies' dynamic-library products against the static
# Swift runtime, which fails.
build_release() {
    swift build -c release --static-swift-stdlib --product orchestrator "$@"
    swift build -c release --static-swift-stdlib --product orchestrator-worker "$@"
    swift build -c release --static-swift-stdlib --product orchestrator-worker-postgres "$@"
}

# DuckDB's official CLI, for DuckDB warehouses (duckdb:///path): pip's duckdb-cli, pinned to the version the
# transforms were written against (keep in step with DuckDBCLI.pinnedVersion). Installed with pip --target into
# a folder of the project's own, ~/.cache/orchestrator/duckdb-cli-VERSION (never system-wide), when neither
# ORCHESTRATOR_DUCKDB nor a duckdb on PATH is there; exported as ORCHESTRATOR_DUCKDB, which tasks inherit.
ORCHESTRATOR_DUCKDB_VERSION="1.5.6"
ensure_duckdb() {
    if [ -n "${ORCHESTRATOR_DUCKDB:-}" ] && [ -x "$ORCHESTRATOR_DUCKDB" ]; then return 0; fi
    if command -v duckdb >/dev/null 2>&1; then return 0; fi
    local folder="$HOME/.cache/orchestrator/duckdb-cli-$ORCHESTRATOR_DUCKDB_VERSION"
    # The wheel's real binary; its bin/duckdb is a Python wrapper around it.
    local binary="$folder/duckdb_cli/duckdb"
    if [ ! -x "$binary" ]; then
        echo "installing: duckdb-cli==$ORCHESTRATOR_DUCKDB_VERSION (pip, into $folder)" >&2
        if ! python3 -m pip --version >/dev/null 2>&1; then
            ensure_apt_packages python3-pip
        fi
        # Into a temporary folder first, so that an interrupted install never looks complete.
        local partial="$folder.partial.$$"
        rm -rf "$partial"
        python3 -m pip install --quiet --disable-pip-version-check --no-deps --target "$partial" \
            "duckdb-cli==$ORCHESTRATOR_DUCKDB_VERSION" >&2 || { rm -rf "$partial"; return 1; }
        rm -rf "$folder"
        mv "$partial" "$folder"
    fi
    # A wheel laid out otherwise than this expects must not export a path that does not exist.
    [ -x "$binary" ] || { echo "error: $binary is not there after installing duckdb-cli" >&2; return 1; }
    export ORCHESTRATOR_DUCKDB="$binary"
}
