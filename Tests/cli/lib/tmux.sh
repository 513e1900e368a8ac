# tmux.sh: drives the REPL as a person would, through a terminal. Sourced after check.sh by the
# REPL tests: a private tmux server (its own socket, no user config) runs tessera with HOME in
# the scratch directory; keys are sent with send-keys and the screen read with capture-pane.

# tmux itself (scripts/test installs it when it runs as root)
command -v tmux >/dev/null 2>&1 || { echo "tmux is needed for the REPL tests: apt-get install tmux" >&2; exit 1; }

TMUX_SOCKET="tessera-test-$$"
TMUX_TARGET="repl"
unset TMUX  # allow running inside a tmux session
tm() { tmux -L "$TMUX_SOCKET" -f /dev/null "$@"; }
REPL_HOME="$WORK/home"
mkdir -p "$REPL_HOME"
trap 'tm kill-server 2>/dev/null; rm -rf "$WORK"' EXIT

# repl_start: a 200x50 terminal running the REPL; waits for the first prompt. The shell around
# it prints the exit status (tmux's own #{pane_dead_status} is not always filled in).
repl_start() {
    tm new-session -d -s "$TMUX_TARGET" -x 200 -y 50 -c "$WORK" \
        "env HOME='$REPL_HOME' TERM=xterm '$TESSERA'; echo \"[exit status \$?]\""
    tm set-option -t "$TMUX_TARGET" remain-on-exit on >/dev/null
    tm set-option -t "$TMUX_TARGET" history-limit 200000 >/dev/null
    wait_for '^\[1\]> ' 10 || { fail "REPL starts" "$(screen)"; summary; exit 1; }
}

# screen: everything the terminal has shown, wrapped lines joined
screen() { tm capture-pane -p -J -S - -t "$TMUX_TARGET"; }
# current_line: the last non-empty line (the prompt and what is typed after it)
current_line() { screen | sed '/^[[:space:]]*$/d' | tail -n 1; }

# wait_for REGEX [SECONDS]: polls the screen until a line matches (extended regex)
wait_for() {
    local deadline=$(( $(date +%s) + ${2:-10} ))
    while [ "$(date +%s)" -le "$deadline" ]; do
        screen | grep -qE -- "$1" && return 0
        sleep 0.1
    done
    return 1
}

# type_text TEXT: types TEXT literally (so `end` is not the End key); tmux reads a trailing ; as
# its own command separator, so that one is escaped
type_text() {
    local text="$1"
    [ "${text%;}" != "$text" ] && text="${text%;}\\;"
    tm send-keys -t "$TMUX_TARGET" -l -- "$text"
}
# type_line TEXT: types TEXT and presses Enter
type_line() { type_text "$1"; tm send-keys -t "$TMUX_TARGET" Enter; }
keys() { tm send-keys -t "$TMUX_TARGET" "$@"; }

# settle: waits until the screen stops changing (after Tab, whose effect has no marker)
settle() {
    local last="" now
    for _ in $(seq 1 30); do
        sleep 0.1
        now="$(screen)"
        [ "$now" = "$last" ] && return 0
        last="$now"
    done
}

# step INPUT [SECONDS]: types INPUT, then a line printing a marker, and sets $output to the
# screen lines since the previous marker (INPUT's echo, what it printed, the marker's echo).
# Returns 1 if the marker never came: the session is stuck or gone.
marker=0
step() {
    marker=$((marker + 1))
    type_line "$1"
    # the marker is typed only once the REPL waits for input again: typed earlier, the terminal
    # echoes it into the middle of INPUT's output (seen under load)
    wait_idle "${2:-10}"
    finish_step "${2:-10}"
}

# wait_idle [SECONDS]: until the last line is a bare prompt ([N]> or ...>) and the screen has
# stopped changing; gives up silently after SECONDS (finish_step then reports what it sees)
wait_idle() {
    local deadline=$(( $(date +%s) + ${1:-10} ))
    while [ "$(date +%s)" -le "$deadline" ]; do
        if current_line | grep -qE '^ *(\[[0-9]+\]|\.\.\.)> *$'; then
            settle
            current_line | grep -qE '^ *(\[[0-9]+\]|\.\.\.)> *$' && return 0
        fi
        sleep 0.05
    done
    return 0
}

# finish_step [SECONDS]: the second half of step, for inputs sent by other means (bump $marker
# first)
finish_step() {
    type_line "print('@@' .. '$marker')"
    if ! wait_for "^@@$marker\$" "${1:-10}"; then
        output="(no prompt within ${1:-10} s) $(screen | tail -n 15)"
        return 1
    fi
    output="$(screen | awk -v m="@@$marker" -v p="@@$((marker - 1))" '
        $0 == p { keep = ""; next }
        $0 == m { print keep; exit }
        { keep = keep $0 "\n" }')"
}
