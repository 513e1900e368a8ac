#!/usr/bin/env bash
# bad_input.sh: each kind of bad input typed into the REPL prints a clear message and leaves the
# session alive (the next input still runs): syntax and runtime errors, methods on nil, wrong
# arguments, shape mismatches, indices out of range, division by zero, 10^13 elements, a missing
# module, an infinite loop stopped with Ctrl-C, a 1 MB pasted line, bytes that are not UTF-8.
source "$(dirname "$0")/lib/check.sh"
source "$(dirname "$0")/lib/tmux.sh"

repl_start
step 'x = tensor.zeros(2, 3)'

# bad INPUT NEEDLE NAME: INPUT prints NEEDLE, and the marker after it ran (the session is alive)
bad() {
    if step "$1"; then
        expect_has "$3" "$output" "$2"
    else
        fail "$3" "the session did not come back: $output"
    fi
}

bad 'x = = 1' "unexpected symbol near '='" "syntax error"
bad 'for i = 1 do end' "',' expected near 'do'" "syntax error in a statement"
# an unfinished string at the end of the line may continue (lua.c's rule); the next line ends it
marker=$((marker + 1))
type_line 'local s = "unfinished'
wait_for '\.\.\.> $' 5
type_line 'more'
if finish_step; then expect_has "unfinished string" "$output" "unfinished string"; else fail "unfinished string" "$output"; fi
bad 'error("custom failure")' "custom failure" "runtime error"
bad 'undefined_function()' "attempt to call a nil value (global 'undefined_function')" "calling nil"
bad 'nothing:method()' "attempt to index a nil value (global 'nothing')" "method on nil"
bad 'x:nomethod()' "attempt to call a nil value (method 'nomethod')" "unknown tensor method"
bad 'x:matmul()' "bad argument #2 to 'matmul' (tensor expected, got no value)" "missing argument"
bad 'x:matmul("a")' "bad argument #2 to 'matmul' (tensor expected, got string)" "wrong argument type"
bad 'tensor.zeros("two")' "bad argument #1 to 'tensor.zeros'" "wrong type to a constructor"
bad 'tensor.zeros(2, {lrr = 1})' "unknown option 'lrr'" "unknown option"
bad 'x:matmul(x)' "shapes 2x3 and 2x3 do not align" "matmul shape mismatch"
bad 'x + tensor.zeros(3, 2)' "cannot be broadcast" "broadcast mismatch"
bad 'x[3]' "index 3 out of range" "row index out of range, 1-based"
bad 'x[1][4]' "index 4 out of range" "column index out of range, 1-based"
bad 'x:select(3, 1)' "dimension 3 out of range" "dimension out of range, 1-based"
bad 'x[0]' "index 0" "index 0"
bad 'tensor.from{1, -1, 0} / 0' "[ inf, -inf,  nan]" "division by zero gives IEEE inf and nan"
bad '(tensor.from{1} / 0):item() == math.huge' "true" "1/0 is inf, not an error"
bad 'tensor.zeros(1e13)' "cannot allocate" "10^13 elements"
bad 'tensor.zeros(1e5, 1e5, 1e3)' "cannot allocate" "10^13 elements as a shape"
bad 'require "no.such.module"' "module 'no.such.module' not found" "missing module"
bad 'setmetatable({}, {__index = function() error("in __index") end}).field' "in __index" "error in a metamethod"
bad 'string.rep("x", -1):len()' "0" "odd but valid input"
bad 'error(setmetatable({}, {__tostring = function() return "custom object" end}))' "custom object" "error object with __tostring"
bad 'error({})' "(error object is a table value)" "error object without __tostring"
bad 'print(tensor.ones(2) .. "s")' "attempt to concatenate" "concatenating a tensor"

# an infinite loop, then Ctrl-C
marker=$((marker + 1))
type_line 'while true do local t = {} end'
sleep 1
keys C-c
if finish_step 10; then
    expect_has "infinite loop stopped by Ctrl-C" "$output" "interrupted!"
else
    fail "infinite loop stopped by Ctrl-C" "$output"
fi

# a 1 MB line, pasted
python3 -c 'import sys; sys.stdout.write("big = \"" + "a" * 1000000 + "\"")' >"$WORK/big.txt" 2>/dev/null ||
    { printf 'big = "'; head -c 1000000 /dev/zero | tr '\0' a; printf '"'; } >"$WORK/big.txt"
tm load-buffer -b big "$WORK/big.txt"
marker=$((marker + 1))
tm paste-buffer -b big -t "$TMUX_TARGET"
keys Enter
finish_step 60 || fail "1 MB pasted line" "$output"
tm clear-history -t "$TMUX_TARGET"
bad '#big' $'\n1000000\n' "a 1 MB pasted line arrives whole"

# bytes that are not UTF-8, pasted raw
printf 'bytes = "\xff\xfe\xc3"' >"$WORK/bytes.txt"
tm load-buffer -b bytes "$WORK/bytes.txt"
marker=$((marker + 1))
tm paste-buffer -b bytes -t "$TMUX_TARGET"
keys Enter
if finish_step 10; then pass "non-UTF-8 bytes in a string: session alive"; else fail "non-UTF-8 bytes in a string" "$output"; fi
printf '\xff\xfe = 1' >"$WORK/stray.txt"
tm load-buffer -b stray "$WORK/stray.txt"
marker=$((marker + 1))
tm paste-buffer -b stray -t "$TMUX_TARGET"
keys Enter
if finish_step 10; then
    expect_has "stray non-UTF-8 bytes: a syntax error" "$output" "unexpected symbol"
else
    fail "stray non-UTF-8 bytes" "$output"
fi

bad 'x:sum()' "0." "the session still works after all of the above"
summary
