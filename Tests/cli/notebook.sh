#!/usr/bin/env bash
# notebook.sh: `tessera run` and `tessera convert` on percent notebooks: printed text, values,
# displays and errors become outputs; --allow-errors, --timeout; every written .ipynb passes the
# official nbformat validator (scripts/validate-notebooks; skipped only where pip cannot install it).
source "$(dirname "$0")/lib/check.sh"
cd "$WORK"
validate="$TESSERA_ROOT/scripts/validate-notebooks"
written=()

cat >nb.lua <<'LUA'
-- %% [markdown]
-- # A test notebook
-- with *Markdown*

-- %% Setup tags=["setup"]
local t = tensor.eye(2)
print("printed", 1)
io.write("written\n")
io.stderr:write("to stderr\n")
t

-- %%
display(nn.Linear(2, 3))
display(setmetatable({}, {__display = function()
  return {["text/plain"] = "a picture", ["image/svg+xml"] = '<svg xmlns="http://www.w3.org/2000/svg" width="4" height="4"/>'}
end}))
t:sum()

-- %%
error("boom")

-- %%
print("after the error")
LUA

run "$TESSERA" run nb.lua
expect_eq "a failing cell exits 1" "$rc" 1
expect_true "the notebook is written even so" [ -f nb.ipynb ]
expect_has "the error is reported with its cell" "$err" "error in cell 4:"
expect_has "the summary names the failed cell" "$err" "failed: cell 4"
expect_has "cell output is echoed" "$out" "printed	1"
nb="$(cat nb.ipynb)"
expect_has "stdout is a stream output" "$nb" $'"name": "stdout",\n     "output_type": "stream",\n     "text": [\n      "printed\\t1\\n",\n      "written\\n"'
expect_has "stderr is a stream output" "$nb" $'"name": "stderr"'
expect_has "the last expression is execute_result" "$nb" '"output_type": "execute_result"'
expect_has "a small 2-D tensor has an HTML table" "$nb" '<caption>f32 tensor of shape 2x2</caption>'
expect_has "display() is display_data" "$nb" '"output_type": "display_data"'
expect_has "a module displays its structure" "$nb" 'Linear(2 -> 3)'
expect_has "__display offers SVG" "$nb" '"image/svg+xml"'
expect_has "the error output has ename" "$nb" '"ename": "LuaError"'
expect_has "the error output has evalue" "$nb" '"evalue": "cell 4:1: boom"'
expect_has "the traceback is kept" "$nb" '"stack traceback:",'
expect_lacks "nothing runs after the error" "$nb" 'after the error\n'
expect_has "the title is cell metadata" "$nb" '"title": "Setup"'
expect_has "Lua kernelspec" "$nb" '"language": "lua"'
expect_has "nbformat 4.5" "$nb" '"nbformat_minor": 5'
cp nb.ipynb stopped.ipynb
written+=(stopped.ipynb)

run "$TESSERA" run nb.lua --allow-errors --out all.ipynb --quiet
expect_eq "--allow-errors exits 0" "$rc" 0
expect_eq "--quiet prints nothing on stdout" "$out" ""
expect_has "--allow-errors runs the cells after the error" "$(cat all.ipynb)" '"after the error\n"'
written+=(all.ipynb)

cat >slow.lua <<'LUA'
-- %%
print("before")
while true do end

-- %%
local a = tensor.randn(200, 200)
for i = 1, 1000000 do a = a:matmul(a):tanh() end

-- %%
print("still alive")
LUA
start=$(date +%s%N)
run "$TESSERA" run slow.lua --timeout 0.5 --allow-errors -q
ms=$(( ($(date +%s%N) - start) / 1000000 ))
expect_eq "timed-out cells with --allow-errors exit 0" "$rc" 0
expect_true "two 0.5 s timeouts take about 1 s (took ${ms} ms)" [ "$ms" -lt 5000 ]
slow="$(cat slow.ipynb)"
expect_has "a timeout is an error output" "$slow" '"ename": "Timeout"'
expect_has "the timeout is named" "$slow" '"evalue": "cell timed out after 0.5 s"'
expect_has "output before the timeout is kept" "$slow" '"before\n"'
expect_has "the session goes on after a timeout" "$slow" '"still alive\n"'
written+=(slow.ipynb)
run "$TESSERA" run slow.lua --timeout 0.3 -q
expect_eq "a timeout without --allow-errors exits 1" "$rc" 1
run "$TESSERA" run slow.lua --timeout nope
expect_eq "a bad --timeout is a usage error" "$rc" 1
expect_has "a bad --timeout is explained" "$err" "--timeout needs a positive number"

# conversions
run "$TESSERA" convert nb.ipynb --to lua --out back.lua
expect_eq "convert to lua exits 0" "$rc" 0
expect_has "the .lua has Jupytext's header" "$(head -3 back.lua)" $'-- ---\n-- jupyter:\n--   kernelspec:'
expect_eq "ipynb -> lua gives the source back after the header" "$(awk 'h < 2 { if ($0 == "-- ---") h++; next } !b { b = 1; next } 1' back.lua)" "$(cat nb.lua)"
for example in "$TESSERA_ROOT"/examples/*.lua; do
    TESSERA_FAST=1 run "$TESSERA" "$example"
    expect_eq "$(basename "$example") also runs as a plain Lua script" "$rc" 0
done
run "$TESSERA" convert nb.lua --to ipynb --out fresh.ipynb
expect_has "lua -> ipynb has no outputs" "$(cat fresh.ipynb)" '"execution_count": null'
written+=(fresh.ipynb)
run "$TESSERA" convert all.ipynb --to md --out report.md
expect_eq "convert to md exits 0" "$rc" 0
expect_has "Markdown has the code" "$(cat report.md)" $'```lua\nerror("boom")\n```'
expect_has "Markdown links the SVG file" "$(cat report.md)" "](report_files/cell3_output2.svg)"
expect_true "the SVG file is written next to the .md" [ -f report_files/cell3_output2.svg ]
run "$TESSERA" convert all.ipynb --to md --out inline.md --inline-images
expect_has "--inline-images embeds a data URI" "$(cat inline.md)" "data:image/svg+xml;base64,"
run "$TESSERA" convert nb.lua --to pdf
expect_eq "an unknown format is an error" "$rc" 1

# malformed notebooks are clear errors, never crashes
printf '{"cells": [1,,]}' >bad.ipynb
run "$TESSERA" run bad.ipynb
expect_eq "malformed JSON exits 1" "$rc" 1
expect_has "malformed JSON says where" "$err" "invalid JSON at line 1, column"
printf '{"nbformat": 4, "cells": [{"cell_type": "code", "source": 5}]}' >bad2.ipynb
run "$TESSERA" convert bad2.ipynb --to lua --out x.lua
expect_has "a bad cell is named" "$err" "cell 1: source must be a string or a list of strings"
run "$TESSERA" run missing.lua
expect_has "a missing notebook is named" "$err" "cannot read 'missing.lua'"

# an .ipynb runs too (in place by default)
cp fresh.ipynb inplace.ipynb
run "$TESSERA" run inplace.ipynb --allow-errors -q
expect_has "an .ipynb is run and updated in place" "$(cat inplace.ipynb)" '"printed\t1\n"'
written+=(inplace.ipynb)

# REPL: %save NAME.ipynb keeps outputs, %run runs a notebook in the session
printf 'x = 40\nprint("hi")\nx + 2\n%%save s.ipynb\n%%save s.lua\n%%run nb.lua\nt\n' >repl_in
STDIN=repl_in run "$TESSERA" -i
expect_has "%save .ipynb reports its outputs" "$out" "saved 3 input(s) with their outputs to s.ipynb"
expect_has "%save .ipynb stores printed text" "$(cat s.ipynb)" '"hi\n"'
expect_has "%save .ipynb stores results" "$(cat s.ipynb)" '"text/plain": [
       "42"'
expect_has "%save .lua is a percent notebook" "$(cat s.lua)" $'-- %%\nx + 2'
expect_has "%run stops at the failing cell" "$err" "%run: stopped at cell 4 of nb.lua"
expect_has "%run leaves its variables in the session" "$out" "[f32 tensor of shape 2x2]"
written+=(s.ipynb)

run "$validate" "${written[@]}"
if [ "$rc" = 77 ]; then
    echo "skip nbformat validation: $err"
else
    expect_eq "every written notebook passes the nbformat validator" "$rc" 0
    [ "$rc" = 0 ] || echo "$out"
fi

summary
