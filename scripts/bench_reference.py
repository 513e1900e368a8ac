"""Reference side of scripts/bench: runs the workloads of tessera-bench in numpy on this machine
and prints both side by side. Reads tessera-bench's JSON lines on stdin."""

import json
import math
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
        }
        bytes_per, fn = fns[op]
        return bytes_per * n / median_time(fn) / 1e9
    return None


def main():
    rows = [json.loads(line) for line in sys.stdin if line.startswith("{")]
    print(f"numpy {np.__version__}; Tessera and numpy run one after the other on this machine\n")
    header = f"{'workload':44} {'tessera':>10} {'numpy':>10} {'ratio':>7} {'raw BLAS':>10}  unit"
    group = None
    for r in rows:
        if r["group"] != group:
            group = r["group"]
            print(f"\n[{group}]\n{header}")
        ref = reference(r["group"], r["name"])
        v = r["value"]
        if r["unit"] == "ms":
            # autograd row: a time; 'raw' is the time of its matmuls alone
            ratio = v / r["raw"]
            print(f"{r['name']:44} {v:10.2f} {'':>10} {ratio:6.2f}x {r['raw']:10.2f}  ms (ratio: step / its matmuls)")
            continue
        ratio = f"{v / ref:6.2f}x" if ref else "      -"
        raw = f"{r['raw']:10.1f}" if "raw" in r else f"{'':>10}"
        refs = f"{ref:10.1f}" if ref else f"{'-':>10}"
        extra = f"  (vs raw sgemm {v / r['raw']:.2f}x)" if "raw" in r else ""
        print(f"{r['name']:44} {v:10.1f} {refs} {ratio} {raw}  {r['unit']}{extra}")


if __name__ == "__main__":
    main()
