#!/usr/bin/env bash
# repl_tmux.sh: the REPL as a person uses it, in a real terminal (tmux): Tab completion, numbered
# prompts, auto-print and `_`, multi-line input, persistent top-level locals, errors that return
# to the prompt, Ctrl-C in a Lua loop and in a Swift kernel, magics, ?help, history, Ctrl-D.
source "$(dirname "$0")/lib/check.sh"
source "$(dirname "$0")/lib/tmux.sh"

repl_start
expect_has "banner" "$(screen)" "Tessera"
expect_has "numbered prompt" "$(current_line)" "[1]> "

# auto-print, `_`, numbered prompts
step '1 + 2'
expect_has "an expression prints its value" "$output" $'\n3\n'
step '_ * 10'
expect_has "_ holds the last result" "$output" $'\n30\n'
expect_has "prompts count inputs ([1] 1 + 2, [2] the marker, [3] this)" "$output" "[3]> _ * 10"
step 'x = tensor.from{{1, 2}, {3, 4}}'
expect_lacks "a statement prints nothing" "$output" "tensor of shape"
step 'x'
expect_has "a tensor auto-prints" "$output" "[f32 tensor of shape 2x2]"
step 'x:sum();'
expect_lacks "a trailing ; silences the value" "$output" "10."
step '{a = 1, "s"}'
expect_has "tables print their contents" "$output" '{"s", a = 1}'

# top-level locals persist across inputs
step 'local kept = 41'
step 'kept + 1'
expect_has "a top-level local survives to the next input" "$output" $'\n42\n'
step 'local function twice(n) return 2 * n end'
step 'twice(kept)'
expect_has "a top-level local function survives" "$output" $'\n82\n'

# multi-line input by lua.c's rule: an incomplete chunk asks for more
marker=$((marker + 1))
type_line 'function area(w, h)'
wait_for '\.\.\.> $' 5
expect_has "an incomplete line shows the continuation prompt" "$(current_line)" "...>"
type_line '  return w * h'
type_line 'end'
finish_step
step 'area(6, 7)'
expect_has "a function defined over three lines works" "$output" $'\n42\n'
marker=$((marker + 1))
type_line 'for i = 1, 3 do'
wait_for '\.\.\.> $' 5
expect_has "a for loop continues on the next line" "$(current_line)" "...>"
type_line 'io.write(i, " ") end print()'
finish_step
expect_has "the loop ran once its end arrived" "$output" "1 2 3"
step '= 6 * 7'
expect_has "=expr prints like lua.c" "$output" $'\n42\n'
step 'local r = 5 return r, r * 11'
expect_has "a statement's returned values print, as in lua.c" "$output" $'\n5 '
expect_has "... all of them" "$output" $' 55\n'

# errors print message and traceback and return to the prompt
step 'nil + 1'
expect_has "runtime error message" "$output" "attempt to perform arithmetic on a nil value"
expect_has "runtime error traceback" "$output" "stack traceback:"
step 'x:matmul(tensor.zeros(3, 3))'
expect_has "Swift error message" "$output" "matmul: shapes 2x2 and 3x3 do not align"
step 'x = = 1'
expect_has "syntax error" "$output" "unexpected symbol"
step '1 + 1'
expect_has "the session continues after errors" "$output" $'\n2\n'

# Tab completion: methods after `:`, fields after `.`, keywords and globals
type_text 'x:ma'
keys Tab
settle
keys Tab
settle
expect_has "x:ma<Tab><Tab> lists tensor methods" "$(screen | tail -n 5)" "x:matmul("
keys C-u
type_text 'x:matm'
keys Tab
settle
expect_has "x:matm<Tab> completes the method" "$(current_line)" "x:matmul("
keys C-u
step 'lin = nn.Linear(2, 3)'
type_text 'lin:fr'
keys Tab
settle
expect_has "lin:fr<Tab> completes a module method" "$(current_line)" "lin:freeze("
keys C-u
type_text 'tensor.ra'
keys Tab
settle
expect_has "tensor.ra<Tab> completes the common prefix" "$(current_line)" "tensor.rand"
keys Tab
settle
keys Tab
settle
expect_has "tensor.ra<Tab><Tab> lists randn" "$(screen | tail -n 5)" "tensor.randn("
keys C-u
type_text 'whil'
keys Tab
settle
expect_has "keywords complete" "$(current_line)" "while"
keys C-u
type_text 'twi'
keys Tab
settle
expect_has "user globals complete" "$(current_line)" "twice("
keys C-u
type_text 'string.rep'
keys Tab
settle
expect_has "table fields complete" "$(current_line)" "string.rep("
keys C-u
type_text 'x:matm'
keys Tab
type_text 'x):sum()'
marker=$((marker + 1))
keys Enter
finish_step
expect_has "a completed call runs" "$output" "54."

# Ctrl-C stops a Lua loop and returns to the prompt
marker=$((marker + 1))
type_line 'while true do end'
sleep 1
keys C-c
finish_step 10
expect_has "Ctrl-C stops while true do end" "$output" "interrupted!"
step 'kept'
expect_has "the session survives Ctrl-C" "$output" $'\n41\n'

# Ctrl-C stops a loop whose time is spent in Swift kernels
step 'big = tensor.randn(1500, 1500)'
marker=$((marker + 1))
type_line 'for i = 1, 1e9 do y = big:matmul(big) end'
sleep 1.5
start=$(date +%s)
keys C-c
finish_step 20
expect_has "Ctrl-C stops a matmul loop" "$output" "interrupted"
expect_true "... within 5 s ($(( $(date +%s) - start )) s)" [ $(( $(date +%s) - start )) -le 5 ]
marker=$((marker + 1))
type_line 'bb = tensor.randn(64, 400, 400); for i = 1, 1e9 do z = bb:matmul(bb) end'
sleep 1.5
keys C-c
finish_step 20
expect_has "Ctrl-C stops a batched matmul loop" "$output" "interrupted"
step 'tensor.ones(2):sum():item()'
expect_has "tensors work after Ctrl-C" "$output" $'\n2.0\n'

# Ctrl-C while typing abandons the line
type_text 'this is not run'
keys C-c
settle
step '"fresh line"'
expect_has "Ctrl-C at the prompt clears the line" "$output" '"fresh line"'
expect_lacks "the abandoned line did not run" "$output" "syntax error"

# magics and ?help
step '%time y = big:matmul(big)'
expect_has "%time prints the wall time" "$output" "time: "
step '%timeit local s = 1 + 1'
expect_has "%timeit prints time per loop" "$output" "per loop"
marker=$((marker + 1))
type_line '%timeit for i = 1, 1e9 do end'
sleep 1
keys C-c
finish_step 10
expect_has "Ctrl-C stops %timeit" "$output" "interrupted!"
step '%who'
expect_has "%who lists user variables" "$output" "big"
expect_has "%who shows tensor shapes" "$output" "tensor f32 1500x1500"
expect_has "%who lists top-level locals" "$output" "kept"
step '%help'
expect_has "%help lists the magics" "$output" "%timeit"
step "%save $WORK/saved.lua"
expect_has "%save reports" "$output" "saved"
expect_has "%save writes a percent notebook" "$(cat "$WORK/saved.lua" 2>/dev/null)" "-- %%"
expect_has "%save keeps the inputs" "$(cat "$WORK/saved.lua" 2>/dev/null)" "area(6, 7)"
expect_lacks "%save leaves out the REPL's own helpers" "$(cat "$WORK/saved.lua" 2>/dev/null)" "timeit"
printf 'loaded_value = 99\nlocal loaded_local = 7\n' >"$WORK/load_me.lua"
step "%load $WORK/load_me.lua"
step 'loaded_value + loaded_local'
expect_has "%load runs a file in the session" "$output" $'\n106\n'
step '%nonsense'
expect_has "unknown magic is reported" "$output" "unknown magic %nonsense"
step '?tensor.randn'
expect_has "?name prints the signature" "$output" "tensor.randn(d1, d2"
expect_has "?name prints the example" "$output" "Example:"
step 'help(tensor.zeros)'
expect_has "help(f) prints" "$output" "A tensor of zeros."
step '%reset'
step 'kept'
expect_has "%reset removes user variables" "$output" $'\nnil\n'

# history: written after every entry, in $HOME
expect_has "history file written during the session" "$(cat "$REPL_HOME/.tessera_history" 2>/dev/null)" "area(6, 7)"
expect_has "history keeps magics" "$(cat "$REPL_HOME/.tessera_history" 2>/dev/null)" "%who"

# Ctrl-D at an empty prompt exits with status 0
keys C-d
wait_for '^\[exit status ' 5
expect_has "Ctrl-D exits with status 0" "$(screen)" "[exit status 0]"

# a new session reads the history: Up recalls the last entry (the last marker line)
tm kill-session -t "$TMUX_TARGET"
repl_start
keys Up
settle
expect_has "history is read back at start" "$(current_line)" "print('@@' .. '$marker')"

summary
