#!/usr/bin/env bash
# cli.sh: the command line as scripts use it: exit codes, `arg` and `...` as in lua, -e, stdin,
# tracebacks on stderr, stdlib found from any directory, bytes that are not UTF-8.
source "$(dirname "$0")/lib/check.sh"
cd "$WORK"

run "$TESSERA" --version
expect_eq "--version exits 0" "$rc" 0
expect_has "--version names the program" "$out" "tessera "
run "$TESSERA" --help
expect_eq "--help exits 0" "$rc" 0
expect_has "--help shows usage" "$out" "usage: tessera"
run "$TESSERA" --bogus
expect_eq "unknown option exits 1" "$rc" 1
expect_has "unknown option is named" "$err" "unknown option '--bogus'"
run "$TESSERA" -e
expect_eq "-e without code exits 1" "$rc" 1

# scripts: arg table, varargs, exit status
cat >args.lua <<'LUA'
print(#arg, arg[0], arg[1], arg[2], arg[-1] ~= nil)
print(select("#", ...), ...)
LUA
run "$TESSERA" args.lua one "two words"
expect_eq "script exits 0" "$rc" 0
expect_eq "arg table as in lua" "$(echo "$out" | sed -n 1p)" "$(printf '2\targs.lua\tone\ttwo words\ttrue')"
expect_eq "script arguments are also ..." "$(echo "$out" | sed -n 2p)" "$(printf '2\tone\ttwo words')"
run "$TESSERA" args.lua
expect_eq "no arguments: empty arg" "$(echo "$out" | sed -n 1p)" "$(printf '0\targs.lua\tnil\tnil\ttrue')"

cat >fails.lua <<'LUA'
local function inner() local t = nil; return t.field end
local function outer() local v = inner(); return v end
print("before")
outer()
print("after")
LUA
run "$TESSERA" fails.lua
expect_eq "failing script exits 1" "$rc" 1
expect_eq "output before the error is kept" "$out" "before"
expect_has "error message on stderr" "$err" "fails.lua:1: attempt to index a nil value (local 't')"
expect_has "traceback on stderr" "$err" "stack traceback:"
expect_has "traceback names the functions" "$err" "in local 'outer'"
expect_lacks "nothing after the error runs" "$out" "after"

printf 'x = = 1\n' >syntax.lua
run "$TESSERA" syntax.lua
expect_eq "syntax error exits 1" "$rc" 1
expect_has "syntax error names file and line" "$err" "syntax.lua:1:"

run "$TESSERA" no_such_file.lua
expect_eq "missing script exits 1" "$rc" 1
expect_has "missing script is named" "$err" "cannot open no_such_file.lua"

printf '#!/usr/bin/env tessera\nprint("shebang ok")\n' >shebang.lua
run "$TESSERA" shebang.lua
expect_eq "#! line is skipped" "$out" "shebang ok"

run "$TESSERA" -e 'os.exit(3)'
expect_eq "os.exit status is kept" "$rc" 3
run "$TESSERA" -e 'error({})'
expect_eq "non-string error exits 1" "$rc" 1
expect_has "non-string error is described" "$err" "(error object is a table value)"

# -e
run "$TESSERA" -e 'print(1 + 1)' -e 'print(tensor.ones(2):sum():item())'
expect_eq "-e runs each chunk in order" "$out" "$(printf '2\n2.0')"
run "$TESSERA" -e 'x = 40' -e 'print(x + 2)'
expect_eq "-e chunks share globals" "$out" "42"
run "$TESSERA" -e 'error("from -e")'
expect_eq "-e error exits 1" "$rc" 1
expect_has "-e error with traceback" "$err" "(command line):1: from -e"
expect_has "-e error traceback" "$err" "stack traceback:"
run "$TESSERA" -e 'greeting = "hi"' args.lua
expect_eq "-e runs before the script" "$rc" 0

# stdin
STDIN=<(printf 'print("from stdin")\nprint(tensor.zeros(2, 3):numel())\n') run "$TESSERA"
expect_eq "stdin runs when not a terminal" "$out" "$(printf 'from stdin\n6')"
STDIN=<(printf 'print(1)\nerror("bad stdin")\n') run "$TESSERA"
expect_eq "stdin error exits 1" "$rc" 1
expect_has "stdin error names stdin" "$err" "stdin:2: bad stdin"
STDIN=<(printf 'print(...)\n') run "$TESSERA" - a b
expect_eq "'-' reads the script from stdin with arguments" "$out" "$(printf 'a\tb')"
STDIN=<(printf 'x = \n') run "$TESSERA"
expect_eq "incomplete stdin is a syntax error" "$rc" 1

# stdlib on package.path wherever the binary runs from
mkdir -p elsewhere
(cd elsewhere && run "$TESSERA" -e 'local T = require "tessera.test"; T.ok(true); T.summary()'
 expect_eq "require tessera.test from another directory" "$out" "1 passed, 0 failed")
(cd / && run "$TESSERA" -e 'print(package.path:match("stdlib") ~= nil)'
 expect_eq "stdlib on package.path from /" "$out" "true")
run "$TESSERA" -e 'require "tessera.no_such"'
expect_eq "missing module exits 1" "$rc" 1
expect_has "missing module is named" "$err" "module 'tessera.no_such' not found"

# bytes that are not UTF-8 reach Lua unchanged (Lua strings are bytes)
printf 'local s = "\xff\xfe"\nprint(#s, s:byte(1), s:byte(2))\n' >bytes.lua
run "$TESSERA" bytes.lua
expect_eq "non-UTF-8 bytes in a file" "$out" "$(printf '2\t255\t254')"
STDIN=bytes.lua run "$TESSERA"
expect_eq "non-UTF-8 bytes on stdin" "$out" "$(printf '2\t255\t254')"
run "$TESSERA" -e "$(printf 'print(#"\xff\xfe")')"
expect_eq "non-UTF-8 bytes in -e" "$out" "2"
run "$TESSERA" args.lua "$(printf '\xff')"
expect_eq "non-UTF-8 script argument" "$(printf '%s' "$out" | sed -n 2p | cut -f2 | tr -d '\n' | od -An -tx1 | tr -d ' ')" "ff"
printf '\xff = 1\n' >badbytes.lua
run "$TESSERA" badbytes.lua
expect_eq "a stray byte is a syntax error" "$rc" 1
expect_has "the stray byte is shown" "$err" "<\\255>"

summary
