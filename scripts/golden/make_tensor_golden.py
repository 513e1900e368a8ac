#!/usr/bin/env python3
"""Writes Tests/TesseraTensorTests/Golden/tensor.json: NumPy reference values for TesseraTensor.

Every input is stored in the file (as the f32 values the Swift side loads), so no random number
generator has to match; NumPy's generator only makes up the numbers, once. References are computed
in float64 from the f32-rounded inputs. Non-finite numbers are stored as the strings "inf",
"-inf" and "nan" (JSON has no literal for them).

Each case: name, op, args (op parameters; dims are 0-based), inputs (shape, data and an optional
`view` that the test applies before the op: "t" swaps the last two dims, "cols2" keeps every other
entry of the last dim, "rows2" every other entry of the second-to-last; a list applies in order),
expected outputs (values, then indices where the op returns them), rtol and atol.

Usage: python3 scripts/golden/make_tensor_golden.py   (from anywhere; needs numpy and scipy)
"""

import json
import math
from pathlib import Path

import numpy as np
from scipy.special import erfc

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "Tests" / "TesseraTensorTests" / "Golden" / "tensor.json"

rng = np.random.default_rng(20240521)
cases = []


def f32(a):
    """the f32 value the engine will see, widened to float64 for the reference computation"""
    return np.asarray(a, dtype=np.float32).astype(np.float64)


def encode(x):
    x = float(x)
    if math.isnan(x):
        return "nan"
    if math.isinf(x):
        return "inf" if x > 0 else "-inf"
    return x


def tensor(a, dtype="f32", view=None):
    a = np.asarray(a)
    t = {"shape": list(a.shape), "dtype": dtype, "data": [encode(v) for v in a.reshape(-1)]}
    if view:
        t["view"] = view
    return t


def case(name, op, inputs, expected, args=None, rtol=1e-5, atol=1e-6):
    cases.append({
        "name": name, "op": op, "args": args or {}, "inputs": inputs,
        "expected": expected, "rtol": rtol, "atol": atol,
    })


def normal(*shape):
    return f32(rng.standard_normal(shape))


def apply_view(base, view):
    for step in view or []:
        if step == "t":
            base = np.swapaxes(base, -1, -2)
        elif step == "cols2":
            base = base[..., ::2]
        elif step == "rows2":
            base = base[..., ::2, :]
    return base


# -- reductions ----------------------------------------------------------------------------------
x = normal(3, 4, 5)
for dims in ([1], [0, 2], [2, 0, 1]):
    for keep in (False, True):
        tag = "_".join(map(str, dims)) + ("_keep" if keep else "")
        case(f"sum_{tag}", "sum", [tensor(x)], [tensor(x.sum(axis=tuple(dims), keepdims=keep))],
             {"dims": dims, "keepDim": keep})
        case(f"mean_{tag}", "mean", [tensor(x)], [tensor(x.mean(axis=tuple(dims), keepdims=keep))],
             {"dims": dims, "keepDim": keep})
case("sum_all", "sum", [tensor(x)], [tensor(x.sum())], {})
case("mean_all", "mean", [tensor(x)], [tensor(x.mean())], {})
for ddof in (0, 1):
    for dims in ([1], [0, 2]):
        tag = "_".join(map(str, dims))
        case(f"var_ddof{ddof}_{tag}", "var", [tensor(x)],
             [tensor(x.var(axis=tuple(dims), ddof=ddof))], {"dims": dims, "correction": ddof})
    case(f"var_ddof{ddof}_all_keep", "var", [tensor(x)],
         [tensor(x.var(ddof=ddof, keepdims=True))], {"correction": ddof, "keepDim": True})
# offset values: a one-pass variance would lose them to cancellation
shifted = f32(1000 + rng.standard_normal((4, 64)))
case("var_offset_1000", "var", [tensor(shifted)], [tensor(shifted.var(axis=1, ddof=1))],
     {"dims": [1], "correction": 1}, rtol=1e-3)
long_row = f32(rng.uniform(0, 1, 10000))
case("sum_long_row", "sum", [tensor(long_row)], [tensor(long_row.sum())], {})

# integer-valued data so that max/min/argmax meet ties (first index wins, as numpy)
ties = f32(rng.integers(0, 4, (4, 6)))
for dim in (0, 1):
    case(f"max_dim{dim}", "max_dim", [tensor(ties)],
         [tensor(ties.max(axis=dim)), tensor(ties.argmax(axis=dim), "i64")], {"dim": dim})
    case(f"min_dim{dim}_keep", "min_dim", [tensor(ties)],
         [tensor(ties.min(axis=dim, keepdims=True)), tensor(ties.argmin(axis=dim, keepdims=True), "i64")],
         {"dim": dim, "keepDim": True})
case("argmax_flat", "argmax", [tensor(ties)], [tensor(np.argmax(ties), "i64")], {})
case("argmin_dim1", "argmin", [tensor(ties)], [tensor(ties.argmin(axis=1), "i64")], {"dim": 1})
with_nan = f32([[1, np.nan, 3, 2], [4, 1, np.inf, 0]])
case("max_dim1_nan", "max_dim", [tensor(with_nan)],
     [tensor(np.max(with_nan, axis=1)), tensor(np.argmax(with_nan, axis=1), "i64")], {"dim": 1})

x2 = normal(3, 4)
for dim in (0, 1):
    case(f"cumsum_dim{dim}", "cumsum", [tensor(x2)], [tensor(np.cumsum(x2, axis=dim))], {"dim": dim})


# -- softmax family ------------------------------------------------------------------------------
def softmax(a, axis):
    m = np.max(a, axis=axis, keepdims=True)
    m = np.where(np.isfinite(m), m, 0)
    e = np.exp(a - m)
    return e / e.sum(axis=axis, keepdims=True)


def log_softmax(a, axis):
    m = np.max(a, axis=axis, keepdims=True)
    m = np.where(np.isfinite(m), m, 0)
    return a - m - np.log(np.exp(a - m).sum(axis=axis, keepdims=True))


def logsumexp(a, axis, keepdims=False):
    m = np.max(a, axis=axis, keepdims=True)
    m = np.where(np.isfinite(m), m, 0)
    r = np.log(np.exp(a - m).sum(axis=axis, keepdims=True)) + m
    return r if keepdims else np.squeeze(r, axis=axis)


s = normal(3, 4, 5) * 3
big = f32([[1000, 1001, 999, 1000.5], [-1000, -1001, -999, -1000.5], [0, -np.inf, 1, -np.inf],
           [-np.inf, -np.inf, -np.inf, -np.inf]])
with np.errstate(all="ignore"):
    for dim in (0, 1, 2):
        case(f"softmax_dim{dim}", "softmax", [tensor(s)], [tensor(softmax(s, dim))], {"dim": dim})
        case(f"log_softmax_dim{dim}", "log_softmax", [tensor(s)], [tensor(log_softmax(s, dim))],
             {"dim": dim}, atol=1e-5)
    # the all -inf row gives NaN, as torch and the formula do
    case("softmax_large_and_masked", "softmax", [tensor(big)], [tensor(softmax(big, 1))], {"dim": 1})
    case("log_softmax_large_and_masked", "log_softmax", [tensor(big)], [tensor(log_softmax(big, 1))],
         {"dim": 1}, atol=1e-4)
    case("softmax_large_and_masked_dim0", "softmax", [tensor(big.T.copy())],
         [tensor(softmax(big.T, 0))], {"dim": 0})
    case("logsumexp_large_and_masked", "logsumexp", [tensor(big)], [tensor(logsumexp(big, 1))],
         {"dims": [1]}, atol=1e-4)
    case("logsumexp_dims_0_2_keep", "logsumexp", [tensor(s)],
         [tensor(logsumexp(s, (0, 2), keepdims=True))], {"dims": [0, 2], "keepDim": True}, atol=1e-5)

# -- matmul ---------------------------------------------------------------------------------------
def matmul_case(name, a_base, b_base, a_view=None, b_view=None, rtol=1e-5, atol=1e-5):
    a = apply_view(a_base, a_view)
    b = apply_view(b_base, b_view)
    case(name, "matmul", [tensor(a_base, view=a_view), tensor(b_base, view=b_view)], [tensor(a @ b)],
         rtol=rtol, atol=atol)


matmul_case("matmul_2d", normal(3, 4), normal(4, 5))
matmul_case("matmul_a_t", normal(4, 3), normal(4, 5), a_view=["t"])
matmul_case("matmul_b_t", normal(3, 4), normal(5, 4), b_view=["t"])
matmul_case("matmul_both_t", normal(4, 3), normal(5, 4), a_view=["t"], b_view=["t"])
matmul_case("matmul_a_cols2", normal(3, 8), normal(4, 5), a_view=["cols2"])
matmul_case("matmul_b_cols2", normal(3, 4), normal(4, 10), b_view=["cols2"])
matmul_case("matmul_a_rows2", normal(6, 4), normal(4, 5), a_view=["rows2"])
matmul_case("matmul_a_t_cols2", normal(8, 3), normal(4, 5), a_view=["t", "cols2"])
matmul_case("matmul_b_rows2_t", normal(3, 4), normal(10, 4), b_view=["rows2", "t"])
matmul_case("matmul_batched", normal(2, 3, 4), normal(2, 4, 5))
matmul_case("matmul_batched_shared_b", normal(2, 3, 4), normal(4, 5))
matmul_case("matmul_batched_shared_a", normal(3, 4), normal(2, 4, 5))
matmul_case("matmul_batch_broadcast", normal(2, 1, 3, 4), normal(3, 4, 5))
matmul_case("matmul_batched_b_t", normal(2, 3, 4), normal(2, 5, 4), b_view=["t"])
matmul_case("matmul_batched_a_cols2", normal(2, 3, 8), normal(2, 4, 2), a_view=["cols2"])
matmul_case("matmul_vec_mat", normal(4), normal(4, 5))
matmul_case("matmul_mat_vec", normal(3, 4), normal(4))
matmul_case("matmul_dot", normal(7), normal(7))
matmul_case("matmul_batched_vec", normal(2, 3, 4), normal(4))
matmul_case("matmul_k0", np.zeros((3, 0)), np.zeros((0, 4)))
matmul_case("matmul_k64", normal(5, 64), normal(64, 6), atol=1e-4)

# -- broadcasting ---------------------------------------------------------------------------------
BINARY = {
    "add": np.add, "sub": np.subtract, "mul": np.multiply, "div": np.divide,
    "maximum": np.maximum, "minimum": np.minimum,
}
shapes = [((1,), (3, 1)), ((3, 1), (4,)), ((), (2, 3)), ((2, 3), ()), ((), ()),
          ((0, 3), (3,)), ((2, 0), (2, 1)), ((2, 1, 3), (4, 1)), ((5,), (5,))]
for op, fn in BINARY.items():
    for sa, sb in shapes:
        a = normal(*sa)
        b = normal(*sb)
        if op == "div":
            b = np.where(np.abs(b) < 0.1, 0.5, b)
        tag = "x".join(map(str, sa)) or "scalar"
        tag += "_" + ("x".join(map(str, sb)) or "scalar")
        case(f"{op}_{tag}", op, [tensor(a), tensor(b)], [tensor(fn(a, b))])
base = f32(rng.uniform(0.5, 2, (3, 4)))
expo = normal(4)
case("pow_tensor_exponent", "pow", [tensor(base), tensor(expo)], [tensor(base ** expo)])
case("add_scalar", "add_scalar", [tensor(x2)], [tensor(x2 + 2.5)], {"value": 2.5})

# -- selection ------------------------------------------------------------------------------------
def stable_order(a, axis, descending):
    return np.argsort(-a if descending else a, axis=axis, kind="stable")


sel = f32(rng.integers(0, 5, (3, 12)))
for k in (1, 4, 12):
    for largest in (True, False):
        order = stable_order(sel, 1, largest)[:, :k]
        case(f"topk_k{k}_{'largest' if largest else 'smallest'}", "topk", [tensor(sel)],
             [tensor(np.take_along_axis(sel, order, 1)), tensor(order, "i64")],
             {"k": k, "dim": 1, "largest": largest}, atol=0)
order0 = stable_order(sel, 0, True)[:2, :]
case("topk_k2_dim0", "topk", [tensor(sel)],
     [tensor(np.take_along_axis(sel, order0, 0)), tensor(order0, "i64")],
     {"k": 2, "dim": 0, "largest": True}, atol=0)
for desc in (False, True):
    order = stable_order(sel, 1, desc)
    case(f"sort_{'desc' if desc else 'asc'}", "sort", [tensor(sel)],
         [tensor(np.take_along_axis(sel, order, 1)), tensor(order, "i64")],
         {"dim": 1, "descending": desc}, atol=0)
for k in (1, 5, 12):
    order = stable_order(sel, 1, False)[:, k - 1]
    case(f"kthvalue_k{k}", "kthvalue", [tensor(sel)],
         [tensor(sel[np.arange(3), order]), tensor(order, "i64")], {"k": k, "dim": 1}, atol=0)

# -- activations and layer norm -------------------------------------------------------------------
g = f32(np.concatenate([np.linspace(-6, 6, 49), [-3.5e-3, 1e-4, 0]]))
case("gelu", "gelu", [tensor(g)], [tensor(0.5 * g * erfc(-g / math.sqrt(2)))])
tail = f32([-10, -9, -8, -7, -6, -5, -4])
# the negative tail is tiny: it must be right in relative terms, so no absolute slack here
case("gelu_negative_tail", "gelu", [tensor(tail)], [tensor(0.5 * tail * erfc(-tail / math.sqrt(2)))],
     rtol=5e-5, atol=0)
gt = f32(np.linspace(-5, 5, 41))
case("gelu_tanh", "gelu_tanh", [tensor(gt)],
     [tensor(0.5 * gt * (1 + np.tanh(math.sqrt(2 / math.pi) * (gt + 0.044715 * gt ** 3))))])
u = f32(rng.uniform(-4, 4, 32))
pos = f32(rng.uniform(0.1, 4, 32))
case("exp", "exp", [tensor(u)], [tensor(np.exp(u))])
case("tanh", "tanh", [tensor(u)], [tensor(np.tanh(u))])
case("sigmoid", "sigmoid", [tensor(u)], [tensor(1 / (1 + np.exp(-u)))])
case("silu", "silu", [tensor(u)], [tensor(u / (1 + np.exp(-u)))])
case("sin", "sin", [tensor(u)], [tensor(np.sin(u))])
case("cos", "cos", [tensor(u)], [tensor(np.cos(u))])
case("log", "log", [tensor(pos)], [tensor(np.log(pos))])
case("sqrt", "sqrt", [tensor(pos)], [tensor(np.sqrt(pos))])
case("rsqrt", "rsqrt", [tensor(pos)], [tensor(1 / np.sqrt(pos))])


def layer_norm(a, w, b, eps):
    mu = a.mean(axis=-1, keepdims=True)
    var = a.var(axis=-1, keepdims=True)
    y = (a - mu) / np.sqrt(var + eps)
    if w is not None:
        y = y * w
    if b is not None:
        y = y + b
    return y


ln = f32(rng.standard_normal((2, 3, 16)) * 2 + 0.5)
w = normal(16)
b = normal(16)
case("layer_norm_weight_bias", "layer_norm", [tensor(ln), tensor(w), tensor(b)],
     [tensor(layer_norm(ln, w, b, 1e-5))], {"eps": 1e-5, "weight": True, "bias": True}, atol=1e-5)
case("layer_norm_plain", "layer_norm", [tensor(ln)], [tensor(layer_norm(ln, None, None, 1e-5))],
     {"eps": 1e-5}, atol=1e-5)
ln_offset = f32(100 + rng.standard_normal((4, 40)))
case("layer_norm_offset_100", "layer_norm", [tensor(ln_offset)],
     [tensor(layer_norm(ln_offset, None, None, 1e-5))], {"eps": 1e-5}, rtol=1e-3, atol=1e-3)

OUT.parent.mkdir(parents=True, exist_ok=True)
names = [c["name"] for c in cases]
assert len(names) == len(set(names)), "case names repeat"
with open(OUT, "w") as fh:
    json.dump({"generator": "scripts/golden/make_tensor_golden.py", "numpy": np.__version__,
               "cases": cases}, fh, separators=(",", ":"), allow_nan=False)
    fh.write("\n")
print(f"wrote {len(cases)} cases to {OUT.relative_to(ROOT)}")
