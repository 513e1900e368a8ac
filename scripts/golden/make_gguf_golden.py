#!/usr/bin/env python3
"""Writes Tests/TesseraIOTests/Golden/tiny.gguf and tiny_expected.safetensors: a GGUF v3 file with
one small tensor of every type Tessera dequantises (F32, F16, BF16, Q8_0, Q4_0, Q4_1, Q5_0, Q5_1,
Q4_K, Q5_K, Q6_K) and metadata of every value type, written by the reference `gguf` package
(gguf-py from llama.cpp), and the f32 values its own `gguf.quants.dequantize` gives for each tensor
(stored under the same names, row-major, in a safetensors file written here with plain NumPy).

The 32-element formats are quantised from random normal values by gguf-py; gguf-py cannot quantise
the k-quants, so their blocks are random bytes with sane f16 scales. Needs `pip install gguf numpy`
(a throwaway venv is enough). Run from the repository root:
    python3 scripts/golden/make_gguf_golden.py
"""
import json
import os

import numpy as np
from gguf import GGUFWriter, GGMLQuantizationType as Q, GGUFValueType
from gguf.constants import GGML_QUANT_SIZES
from gguf.quants import quantize, dequantize

rng = np.random.default_rng(20261127)
out_dir = "Tests/TesseraIOTests/Golden"
os.makedirs(out_dir, exist_ok=True)


def random_k_blocks(qtype, n_blocks):
    """random k-quant blocks whose f16 scale fields hold small positive finite values"""
    block_elems, block_bytes = GGML_QUANT_SIZES[qtype]
    b = rng.integers(0, 256, size=(n_blocks, block_bytes), dtype=np.uint8)
    scales = rng.uniform(0.001, 0.05, size=(n_blocks, 2)).astype(np.float16).view(np.uint8)
    if qtype == Q.Q6_K:
        b[:, block_bytes - 2:] = scales[:, 0:2]  # d is last
    else:
        b[:, 0:4] = scales  # d, dmin first
    return b


writer = GGUFWriter(os.path.join(out_dir, "tiny.gguf"), arch="tiny")
writer.add_uint8("test.u8", 200)
writer.add_int8("test.i8", -100)
writer.add_uint16("test.u16", 60000)
writer.add_int16("test.i16", -30000)
writer.add_uint32("test.u32", 4000000000)
writer.add_int32("test.i32", -2000000000)
writer.add_uint64("test.u64", 2**63 + 5)
writer.add_int64("test.i64", -(2**62))
writer.add_float32("test.f32", 0.25)
writer.add_float64("test.f64", -1.5e300)
writer.add_bool("test.bool", True)
writer.add_string("test.string", "héllo wörld")
writer.add_array("test.strings", ["a", "", "ünï", "<s>"])
writer.add_array("test.ints", [1, -2, 3])

expected = {}
shape32 = (3, 64)  # rows, columns: 6 blocks of 32
for name, qtype in [("f32", Q.F32), ("f16", Q.F16), ("bf16", Q.BF16), ("q8_0", Q.Q8_0), ("q4_0", Q.Q4_0),
                    ("q4_1", Q.Q4_1), ("q5_0", Q.Q5_0), ("q5_1", Q.Q5_1)]:
    values = rng.normal(0, 1, size=shape32).astype(np.float32)
    values[0, :32] = 0  # an all-zero block (scale 0)
    data = quantize(values, qtype)
    writer.add_tensor(name, data, raw_dtype=qtype)
    expected[name] = dequantize(data, qtype).reshape(shape32).astype(np.float32)
for name, qtype in [("q4_k", Q.Q4_K), ("q5_k", Q.Q5_K), ("q6_k", Q.Q6_K)]:
    rows, cols = 2, 512
    blocks = random_k_blocks(qtype, rows * cols // 256).reshape(rows, -1)
    writer.add_tensor(name, blocks, raw_dtype=qtype)
    expected[name] = dequantize(blocks, qtype).reshape(rows, cols).astype(np.float32)
writer.write_header_to_file()
writer.write_kv_data_to_file()
writer.write_tensors_to_file()
writer.close()

# safetensors by hand: u64 header length, JSON header padded with spaces to 8 bytes, data
header, blobs, offset = {}, [], 0
for name in sorted(expected):
    b = expected[name].astype("<f4").tobytes()
    header[name] = {"dtype": "F32", "shape": list(expected[name].shape), "data_offsets": [offset, offset + len(b)]}
    blobs.append(b)
    offset += len(b)
h = json.dumps(header, separators=(",", ":")).encode()
h += b" " * ((8 - len(h) % 8) % 8)
with open(os.path.join(out_dir, "tiny_expected.safetensors"), "wb") as f:
    f.write(len(h).to_bytes(8, "little") + h + b"".join(blobs))
print("wrote", out_dir, {k: v.shape for k, v in expected.items()})
