# setup.sh: sourced by scripts/test, scripts/tessera and scripts/bench. Finds Swift, installs the
# Debian packages Tessera links against when they are missing, and builds in release mode when a
# source is newer than the binary.

TESSERA_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
TESSERA_PACKAGES="libopenblas-dev liblua5.4-dev libreadline-dev zlib1g-dev"

tessera_find_swift() {
    if ! command -v swift >/dev/null 2>&1 && [ -x /opt/swift/usr/bin/swift ]; then
        export PATH="/opt/swift/usr/bin:$PATH"
    fi
    if ! command -v swift >/dev/null 2>&1; then
        echo "tessera: Swift 6 is not on PATH (looked in /opt/swift/usr/bin too); install it from swift.org" >&2
        exit 1
    fi
}

tessera_install_packages() {
    local missing=""
    for p in $TESSERA_PACKAGES; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
    done
    [ -z "$missing" ] && return 0
    if [ "$(id -u)" != 0 ]; then
        echo "tessera: missing Debian packages:$missing" >&2
        echo "run: sudo apt-get update && sudo apt-get install -y$missing" >&2
        exit 1
    fi
    echo "tessera: installing$missing" >&2
    apt-get update -qq >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing >&2
}

# tessera_build_release PRODUCT: builds .build/release/PRODUCT unless it is newer than every source.
tessera_build_release() {
    local product="$1" bin="$TESSERA_ROOT/.build/release/$1"
    if [ -x "$bin" ] && [ -z "$(find "$TESSERA_ROOT/Sources" "$TESSERA_ROOT/Package.swift" -newer "$bin" -print -quit)" ]; then
        return 0
    fi
    echo "tessera: building $product (release)..." >&2
    (cd "$TESSERA_ROOT" && swift build -c release --product "$product" >&2) || {
        echo "tessera: release build of $product failed" >&2
        exit 1
    }
    touch "$bin"
}

tessera_find_swift
tessera_install_packages
