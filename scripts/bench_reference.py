"""Reference side of scripts/bench: runs tessera-bench and the same workloads in numpy on this
machine, alternating for a few rounds and keeping each side's best figure (machines here are
shared, and a best-of comparison is less sensitive to another process's bursts), then prints both
side by side.

usage: bench_reference.py TESSERA_BENCH_BINARY [--rounds N] [--torch PYTHON] [group ...]
(--torch: the training rows against PyTorch, see bench_torch_train.py)"""

import json
import math
import os
import subprocess
import sys
import time

import numpy as np

try:
    from scipy.special import erf
except ImportError:  # scipy is optional: gelu then uses a vectorised math.erf (slower)
    erf = np.vectorize(math.erf, otypes=[np.float32])


def median_time(fn, budget=0.4):
    fn()
    t0 = time.perf_counter()
    fn()
    once = max(time.perf_counter() - t0, 1e-7)
    reps = max(3, min(200, int(budget / once)))
    samples = []
    for _ in range(reps):
        s = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - s)
    samples.sort()
    return samples[len(samples) // 2]


def softmax(x):
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def layernorm(x, eps=1e-5):
    mu = x.mean(axis=-1, keepdims=True)
    return (x - mu) / np.sqrt(x.var(axis=-1, keepdims=True) + eps)


def reference(group, name):
    """numpy's figure for one tessera-bench row, in the row's unit (None where numpy has none)."""
    rng = np.random.default_rng(0)
    f32 = np.float32
    if group == "matmul":
        if name.startswith("matmul ") and "transposed" not in name:
            s = int(name.split()[1].split("x")[0])
            a, b = rng.standard_normal((s, s), dtype=f32), rng.standard_normal((s, s), dtype=f32)
            return 2.0 * s**3 / median_time(lambda: a @ b) / 1e9
        if "transposed" in name:
            a, b = rng.standard_normal((1024, 1024), dtype=f32), rng.standard_normal((1024, 1024), dtype=f32)
            return 2.0 * 1024**3 / median_time(lambda: a @ b.T) / 1e9
        if name.startswith("linear"):
            x, w = rng.standard_normal((16, 128, 384), dtype=f32), rng.standard_normal((384, 384), dtype=f32)
            return 2.0 * 16 * 128 * 384 * 384 / median_time(lambda: x @ w) / 1e9
        if name.startswith("batched"):
            x, y = rng.standard_normal((16, 128, 384), dtype=f32), rng.standard_normal((16, 384, 128), dtype=f32)
            return 2.0 * 16 * 128 * 128 * 384 / median_time(lambda: x @ y) / 1e9
        if name.startswith("heads"):
            q, k = rng.standard_normal((16, 6, 128, 64), dtype=f32), rng.standard_normal((16, 6, 64, 128), dtype=f32)
            return 2.0 * 96 * 128 * 128 * 64 / median_time(lambda: q @ k) / 1e9
    if group == "elementwise":
        n = 1 << 20 if name.endswith("1M") else 1 << 24
        a, b = rng.standard_normal(n, dtype=f32), rng.standard_normal(n, dtype=f32)
        rows = a.reshape(-1, 1024)
        op = name.split()[0]
        fns = {
            "add": (12, lambda: a + b),
            "mul": (12, lambda: a * b),
            "exp": (8, lambda: np.exp(a)),
            "gelu": (8, lambda: 0.5 * a * (1 + erf(a * f32(0.70710678)))),
            "softmax": (8, lambda: softmax(rows)),
            "layernorm": (8, lambda: layernorm(rows)),
            "sum": (4, lambda: a.sum()),
            "randn": (4, lambda: rng.standard_normal(n, dtype=f32)),
        }
        bytes_per, fn = fns[op]
        return bytes_per * n / median_time(fn) / 1e9
    if group == "tokenize":
        return tokenize_reference(name)
    if group == "sft" and name.startswith("exact top-K"):
        # the same selection in numpy: the K largest |x| of 1e8 values (|x| taken outside the timing)
        n, k = 100_000_000, 1_000_000
        x = np.abs(rng.standard_normal(n, dtype=f32))
        return median_time(lambda: np.argpartition(x, n - k)[n - k:], budget=3) * 1e3
    return None


_tokenize_rows = None


def tokenize_reference(name):
    """HF tokenizers' figure for a `tokenize` row (scripts/bench_tokenize_reference.py, run once
    with $TESSERA_HF_PYTHON, or this Python if it has `tokenizers`); None without one"""
    global _tokenize_rows
    if _tokenize_rows is None:
        _tokenize_rows = {}
        python = os.environ.get("TESSERA_HF_PYTHON", sys.executable)
        if subprocess.run([python, "-c", "import tokenizers"], capture_output=True).returncode == 0:
            script = os.path.join(os.path.dirname(os.path.abspath(__file__)), "bench_tokenize_reference.py")
            out = subprocess.run([python, script], check=True, capture_output=True, text=True).stdout
            _tokenize_rows = {r["name"]: r["value"] for r in map(json.loads, out.splitlines())}
    return _tokenize_rows.get(name)


def lua_rows(tessera):
    """the Lua front end: startup of `tessera -e 'print(1)'` (median of 20, wall and peak RSS) and
    the per-op cost of `c = a + b` on 4-element tensors in a Lua loop, against numpy's a + b"""
    walls, rss = [], []
    for _ in range(20):
        t0 = time.perf_counter()
        subprocess.run([tessera, "-e", "print(1)"], check=True, stdout=subprocess.DEVNULL)
        walls.append(time.perf_counter() - t0)
        # peak RSS as the process itself sees it (a forked child's ru_maxrss would include this
        # Python process's pages from before exec)
        hwm = subprocess.run([tessera, "-e", "print(1) print(io.open('/proc/self/status'):read('a'):match('VmHWM:%s*(%d+)'))"],
                             check=True, capture_output=True, text=True).stdout.split()[-1]
        rss.append(int(hwm) / 1024)
    walls.sort(), rss.sort()
    n = 200_000
    code = ("local a, b = tensor.ones(4), tensor.ones(4)\n"
            f"local t0 = os.clock() for i = 1, {n} do local c = a + b end\n"
            f"print((os.clock() - t0) / {n} * 1e6)")
    per_op = min(float(subprocess.run([tessera, "-e", code], check=True, capture_output=True, text=True).stdout)
                 for _ in range(3))
    a, b = np.ones(4, dtype=np.float32), np.ones(4, dtype=np.float32)

    def loop():
        for _ in range(n):
            a + b

    numpy_op = min(median_time(loop, budget=0.1) for _ in range(3)) / n * 1e6
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-c", "import numpy"], check=True)
    numpy_import = (time.perf_counter() - t0) * 1e3
    return [
        ("startup: tessera -e 'print(1)', median of 20", walls[10] * 1e3, "ms", f"python3 -c 'import numpy': {numpy_import:.0f} ms"),
        ("startup: peak RSS, median of 20", rss[10], "MB", ""),
        ("c = a + b on 4-element tensors, per op", per_op, "us", f"numpy: {numpy_op:.2f} us, ratio {per_op / numpy_op:.2f}x"),
    ]


def better(unit, a, b):
    """the better of two measurements: a time is better when smaller, a rate when larger"""
    return min(a, b) if unit == "ms" else max(a, b)


def run_rows(command):
    """the JSON rows a benchmark process prints, keyed by name"""
    out = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    return {row["name"]: row for row in map(json.loads, (l for l in out.splitlines() if l.startswith("{")))}


def train_versus_torch(binary, torch_python, groups, rounds):
    """each training row in its own process (so peak memory is that row's), tessera and PyTorch
    alternating, best of the rounds for each"""
    which = [g[len("train-"):] for g in groups if g.startswith("train-")] or ["bert", "minilm", "decoder"]
    script = os.path.join(os.path.dirname(os.path.abspath(__file__)), "bench_torch_train.py")
    best = {}
    version = ""
    for r in range(rounds):
        for w in which:
            for side, command in (("tessera", [binary, f"train-{w}"]), ("torch", [torch_python, script, w])):
                for name, row in run_rows(command).items():
                    if name == "versions":
                        version = row["unit"]
                        continue
                    if row["unit"] == "GFLOPS":
                        continue
                    better_of = min if row["unit"] in ("ms", "MB") else max
                    key = (name, side)
                    best[key] = better_of(best[key], row["value"]) if key in best else row["value"]
                    best.setdefault((name, "unit"), row["unit"])
        print(f"round {r + 1} of {rounds} done", file=sys.stderr)
    print(f"{version}, 2 threads; best of {rounds} alternating rounds of each on this machine\n")
    print(f"{'workload':64} {'tessera':>10} {'torch':>10} {'speed-up':>9}  unit")
    for (name, side), value in best.items():
        if side != "tessera":
            continue
        unit = best[(name, "unit")]
        ref = best.get((name, "torch"))
        if ref is None:
            print(f"{name:64} {value:10.1f} {'-':>10} {'':>9}  {unit}")
            continue
        speedup = ref / value if unit in ("ms", "MB") else value / ref
        label = "x less" if unit == "MB" else "x"
        print(f"{name:64} {value:10.1f} {ref:10.1f} {speedup:8.2f}{label}  {unit}")


def spiel_versus_torch(binary, torch_python):
    """the `spiel` group (SpIEL-AG/MA vs LoRA, f32 and NF4 bases) with PyTorch + peft's LoRA step
    on the same shapes run before and after it in the same invocation (best of the two)"""
    script = os.path.join(os.path.dirname(os.path.abspath(__file__)), "bench_torch_spiel.py")
    peft = []
    peft.append(run_rows([torch_python, script]))
    ours = run_rows([binary, "spiel"])
    peft.append(run_rows([torch_python, script]))
    print("tessera-bench spiel between two runs of PyTorch + peft (bench_torch_spiel.py), 2 threads\n")
    for name, row in ours.items():
        print(f"{name:118} {row['value']:10.2f} {row['unit']}")
    (name, _), = peft[0].items()
    ref = min(p[name]["value"] for p in peft)
    print(f"{name:118} {ref:10.2f} ms")
    prefix = name.split(":")[0]
    for label in ("LoRA r=8 step (AdamW)", "SpIEL-AG step outside selection windows", "SpIEL-MA step"):
        row = ours.get(f"{prefix}: {label}")
        if row:
            print(f"{prefix}: Tessera {label} / PyTorch + peft LoRA: {row['value'] / ref:.2f}x")


def main():
    args = sys.argv[1:]
    binary = args.pop(0)
    if args and args[0] == "lua":
        tessera = os.path.join(os.path.dirname(binary), "tessera")
        print(f"numpy {np.__version__}\n\n[lua]")
        for name, value, unit, note in lua_rows(tessera):
            print(f"{name:48} {value:10.2f} {unit:3}  {note}")
        return
    rounds = 2
    if "--rounds" in args:
        i = args.index("--rounds")
        rounds = int(args[i + 1])
        del args[i : i + 2]
    torch_python = None
    if "--torch" in args:
        i = args.index("--torch")
        torch_python = args[i + 1]
        del args[i : i + 2]
        if "spiel" in args:
            spiel_versus_torch(binary, torch_python)
            args = [a for a in args if a != "spiel"]
            if not args:
                return
        return train_versus_torch(binary, torch_python, args, rounds)
    rows, refs = {}, {}
    for r in range(rounds):
        out = subprocess.run([binary, *args], check=True, capture_output=True, text=True).stdout
        for line in out.splitlines():
            if not line.startswith("{"):
                continue
            row = json.loads(line)
            key = (row["group"], row["name"])
            if key in rows:
                old = rows[key]
                row["value"] = better(row["unit"], old["value"], row["value"])
                if "raw" in row:
                    row["raw"] = better(row["unit"], old["raw"], row["raw"])
            rows[key] = row
            ref = reference(*key)
            if ref is not None:
                refs[key] = max(refs.get(key, ref), ref)
        print(f"round {r + 1} of {rounds} done", file=sys.stderr)
    print(f"numpy {np.__version__}; best of {rounds} alternating rounds of each on this machine\n")
    header = f"{'workload':44} {'tessera':>10} {'numpy':>10} {'ratio':>7} {'raw BLAS':>10}  unit"
    group = None
    for key, r in rows.items():
        if r["group"] != group:
            group = r["group"]
            print(f"\n[{group}]\n{header}")
        ref = refs.get(key)
        v = r["value"]
        if "raw" not in r and ref is None:
            # a row with no numpy counterpart (training steps): the figure alone
            print(f"{r['name']:56} {v:10.1f}  {r['unit']}")
            continue
        if r["unit"] == "ms":
            # autograd row: a time; 'raw' is the time of its matmuls alone
            ratio = v / r["raw"]
            print(f"{r['name']:44} {v:10.2f} {'':>10} {ratio:6.2f}x {r['raw']:10.2f}  ms (ratio: step / its matmuls)")
            continue
        ratio = f"{v / ref:6.2f}x" if ref else "      -"
        raw = f"{r['raw']:10.1f}" if "raw" in r else f"{'':>10}"
        ref_text = f"{ref:10.1f}" if ref else f"{'-':>10}"
        extra = f"  (vs raw sgemm {v / r['raw']:.2f}x)" if "raw" in r else ""
        print(f"{r['name']:44} {v:10.1f} {ref_text} {ratio} {raw}  {r['unit']}{extra}")


if __name__ == "__main__":
    main()
