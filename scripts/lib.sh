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
