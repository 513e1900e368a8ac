# check.sh: sourced by Tests/cli/*.sh. Finds the release binary, gives each script a scratch
# directory, runs commands capturing their output, counts checks (one line each) and prints the
# "N passed, N failed" summary.

TESSERA_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)"
TESSERA="${TESSERA:-$TESSERA_ROOT/.build/release/tessera}"
if [ ! -x "$TESSERA" ]; then
    echo "no release binary at $TESSERA (scripts/test builds it: swift build -c release --product tessera)" >&2
    exit 1
fi
WORK="$(mktemp -d "${TMPDIR:-/tmp}/tessera-cli.XXXXXX")"
trap 'rm -rf "$WORK"' EXIT
passed=0
failed=0

pass() { passed=$((passed + 1)); echo "ok   $1"; }
fail() { failed=$((failed + 1)); echo "FAIL $1${2:+ -- $2}"; }

# run CMD...: runs with stdin from /dev/null (or $STDIN), sets $rc, $out and $err
run() {
    "$@" <"${STDIN:-/dev/null}" >"$WORK/stdout" 2>"$WORK/stderr"
    rc=$?
    out="$(cat "$WORK/stdout")"
    err="$(cat "$WORK/stderr")"
}

# expect_eq NAME ACTUAL EXPECTED
expect_eq() {
    if [ "$2" = "$3" ]; then pass "$1"; else fail "$1" "got '$2', expected '$3'"; fi
}

# expect_has NAME TEXT NEEDLE: TEXT contains NEEDLE, a fixed string that may span lines
# ($'\n42\n' is a line holding exactly 42)
expect_has() {
    if [[ "$2" == *"$3"* ]]; then pass "$1"; else fail "$1" "'$3' not in: ${2:0:600}"; fi
}

# expect_lacks NAME TEXT NEEDLE
expect_lacks() {
    if [[ "$2" == *"$3"* ]]; then fail "$1" "'$3' found in: ${2:0:600}"; else pass "$1"; fi
}

# expect_true NAME CONDITION-WORDS...: e.g. expect_true "small" [ 3 -lt 5 ]
expect_true() {
    local name="$1"
    shift
    if "$@"; then pass "$name"; else fail "$name" "$*"; fi
}

# summary: the final line; the script's exit status says whether everything passed
summary() {
    echo "$passed passed, $failed failed"
    [ "$failed" -eq 0 ]
}
