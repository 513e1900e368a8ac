"""HF tokenizers' side of tessera-bench's `tokenize` group: single-thread tokens/s of the same
tokenizers over the same corpus (English and German fortunes from assets/, one encode per
fortune, no special tokens). Prints one JSON line per row, named as tessera-bench names them.

usage: python bench_tokenize_reference.py   (needs `pip install tokenizers`; `gguf` for SmolLM2)
Environment: TESSERA_ASSETS (default ./assets). Run by scripts/bench_reference.py when a Python
with `tokenizers` is given in TESSERA_HF_PYTHON (or the running one has it)."""

import json
import os
import struct
import sys
import time

os.environ["RAYON_NUM_THREADS"] = "1"  # before importing tokenizers: one thread, as tessera's row
os.environ["TOKENIZERS_PARALLELISM"] = "false"
from tokenizers import Tokenizer  # noqa: E402

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "golden"))
import make_tokenizer_golden as golden  # noqa: E402

ROOT = os.environ.get("TESSERA_ASSETS", "assets")


def fortunes():
    texts = []
    for language in ["en", "de"]:
        folder = os.path.join(ROOT, "fortunes", language)
        for name in sorted(os.listdir(folder)):
            if name.endswith(".dat") or name.startswith("."):
                continue
            text = open(os.path.join(folder, name), "rb").read().decode("utf-8", errors="replace")
            texts += [t for t in text.split("\n%\n") if t.strip()]
    return texts


def median_time(fn, budget=3.0):
    fn()
    t0 = time.perf_counter()
    fn()
    once = max(time.perf_counter() - t0, 1e-7)
    samples = []
    for _ in range(max(3, min(200, int(budget / once)))):
        s = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - s)
    samples.sort()
    return samples[len(samples) // 2]


def main():
    texts = fortunes()
    megabytes = sum(len(t.encode()) for t in texts) / 1e6
    tokenizers = []
    path = os.path.join(ROOT, "minilm", "tokenizer.json")
    if os.path.exists(path):
        tok = Tokenizer.from_file(path)
        tok.no_truncation(), tok.no_padding()
        tokenizers.append(("WordPiece (MiniLM)", tok))
    gguf_path = os.path.join(ROOT, "smollm2", "SmolLM2-135M-Instruct.Q4_1.gguf")
    try:
        tokens, merges, types = golden.read_gguf_tokenizer(gguf_path)
        specials = [t for t, ty in zip(tokens, types) if ty == 3]
        tokenizers.append(("byte-level BPE (SmolLM2)",
                           golden.bpe_tokenizer({t: i for i, t in enumerate(tokens)}, merges, specials, golden.SMOLLM_PRE())))
    except (ImportError, FileNotFoundError, KeyError):
        pass
    e5_path = os.path.join(ROOT, "e5", "e5-small-q4.bin")
    if os.path.exists(e5_path):
        pieces, scores, bos, eos, pad, unk = golden.read_e5_vocab(e5_path)
        tokenizers.append(("unigram (e5 / XLM-R)", golden.unigram_tokenizer(list(zip(pieces, scores)), unk)))
    for name, tok in tokenizers:
        count = 0

        def run():
            nonlocal count
            # one call per fortune: faster here than one serial encode_batch over all of them
            count = sum(len(tok.encode(t, add_special_tokens=False).ids) for t in texts)

        t = median_time(run)
        for row, value, unit in [("tokens/s, 1 thread", count / t, "tok/s"), ("MB/s, 1 thread", megabytes / t, "MB/s")]:
            print(json.dumps({"group": "tokenize", "name": f"{name}: {row}", "value": value, "unit": unit}))


if __name__ == "__main__":
    main()
