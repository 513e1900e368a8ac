#!/usr/bin/env python3
"""Writes Tests/TesseraNNTests/Golden/nn.json: a small random BERT encoder with its masked-LM head
and a small LLaMA decoder with its LM head, their inputs, and the outputs of an independent NumPy
forward pass written from the Hugging Face architectures (BertForMaskedLM: post-LN, exact erf
GELU; LlamaForCausalLM: pre-RMSNorm, rotate_half RoPE, SwiGLU, grouped-query attention).

Weights are keyed by their Hugging Face parameter names and rounded to 5 decimals (a short file;
an f64 model loads them exactly), the reference runs in float64 and its outputs are stored with 12
significant digits. Run from the repository root:
    python3 scripts/golden/make_nn_golden.py
"""
import json
import math
import os

import numpy as np

rng = np.random.default_rng(20240607)
erf = np.vectorize(math.erf)


def weight(*shape, std=0.2):
    return np.round(rng.normal(0.0, std, shape), 5)


def near_one(n):
    return np.round(1.0 + rng.normal(0.0, 0.1, n), 5)


def layer_norm(x, w, b, eps):
    mu = x.mean(-1, keepdims=True)
    var = ((x - mu) ** 2).mean(-1, keepdims=True)
    return (x - mu) / np.sqrt(var + eps) * w + b


def rms_norm(x, w, eps):
    return x / np.sqrt((x * x).mean(-1, keepdims=True) + eps) * w


def gelu(x):
    return 0.5 * x * (1.0 + erf(x / math.sqrt(2.0)))


def silu(x):
    return x / (1.0 + np.exp(-x))


def softmax(s):
    e = np.exp(s - s.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


def linear(x, W, b=None):
    y = x @ W.T
    return y if b is None else y + b


def attention(q, k, v, additive_mask):
    """q (B, H, T, hd), k, v (B, H, T, hd), mask added to the scores -> context (B, T, H*hd), probs"""
    scores = q @ k.transpose(0, 1, 3, 2) / math.sqrt(q.shape[-1]) + additive_mask
    p = softmax(scores)
    ctx = p @ v
    b, h, t, hd = ctx.shape
    return ctx.transpose(0, 2, 1, 3).reshape(b, t, h * hd), p


# ---------------------------------------------------------------- encoder (BertForMaskedLM)
enc_config = {
    "model_type": "bert", "vocab_size": 50, "hidden_size": 32, "num_hidden_layers": 2,
    "num_attention_heads": 4, "intermediate_size": 48, "hidden_act": "gelu",
    "max_position_embeddings": 16, "type_vocab_size": 2, "layer_norm_eps": 1e-12, "pad_token_id": 0,
    "hidden_dropout_prob": 0.1, "attention_probs_dropout_prob": 0.1, "initializer_range": 0.02,
    "architectures": ["BertForMaskedLM"],
}


def make_encoder_weights(c):
    V, D, I, P, TT = (c["vocab_size"], c["hidden_size"], c["intermediate_size"],
                      c["max_position_embeddings"], c["type_vocab_size"])
    w = {}
    word = weight(V, D, std=0.5)
    word[c["pad_token_id"]] = 0.0
    w["bert.embeddings.word_embeddings.weight"] = word
    w["bert.embeddings.position_embeddings.weight"] = weight(P, D, std=0.5)
    w["bert.embeddings.token_type_embeddings.weight"] = weight(TT, D, std=0.5)
    w["bert.embeddings.LayerNorm.weight"] = near_one(D)
    w["bert.embeddings.LayerNorm.bias"] = weight(D, std=0.1)
    for i in range(c["num_hidden_layers"]):
        p = f"bert.encoder.layer.{i}."
        for name in ["attention.self.query", "attention.self.key", "attention.self.value", "attention.output.dense"]:
            w[p + name + ".weight"] = weight(D, D)
            w[p + name + ".bias"] = weight(D, std=0.1)
        w[p + "attention.output.LayerNorm.weight"] = near_one(D)
        w[p + "attention.output.LayerNorm.bias"] = weight(D, std=0.1)
        w[p + "intermediate.dense.weight"] = weight(I, D)
        w[p + "intermediate.dense.bias"] = weight(I, std=0.1)
        w[p + "output.dense.weight"] = weight(D, I)
        w[p + "output.dense.bias"] = weight(D, std=0.1)
        w[p + "output.LayerNorm.weight"] = near_one(D)
        w[p + "output.LayerNorm.bias"] = weight(D, std=0.1)
    w["cls.predictions.transform.dense.weight"] = weight(D, D)
    w["cls.predictions.transform.dense.bias"] = weight(D, std=0.1)
    w["cls.predictions.transform.LayerNorm.weight"] = near_one(D)
    w["cls.predictions.transform.LayerNorm.bias"] = weight(D, std=0.1)
    w["cls.predictions.bias"] = weight(V, std=0.1)
    # the decoder weight is tied to the word embeddings (HF's default), so it has no key of its own
    return w


def encoder_forward(c, w, ids, mask, types):
    B, T = ids.shape
    H = c["num_attention_heads"]
    D = c["hidden_size"]
    hd = D // H
    eps = c["layer_norm_eps"]
    e = (w["bert.embeddings.word_embeddings.weight"][ids]
         + w["bert.embeddings.position_embeddings.weight"][np.arange(T)][None]
         + w["bert.embeddings.token_type_embeddings.weight"][types])
    h = layer_norm(e, w["bert.embeddings.LayerNorm.weight"], w["bert.embeddings.LayerNorm.bias"], eps)
    # HF's extended attention mask: (1 - mask) * finfo.min, added to the scores
    additive = ((1.0 - mask) * np.finfo(np.float64).min)[:, None, None, :]
    probs = []
    for i in range(c["num_hidden_layers"]):
        p = f"bert.encoder.layer.{i}."

        def heads(name):
            y = linear(h, w[p + name + ".weight"], w[p + name + ".bias"])
            return y.reshape(B, T, H, hd).transpose(0, 2, 1, 3)
        ctx, pr = attention(heads("attention.self.query"), heads("attention.self.key"),
                            heads("attention.self.value"), additive)
        probs.append(pr)
        a = linear(ctx, w[p + "attention.output.dense.weight"], w[p + "attention.output.dense.bias"])
        h = layer_norm(a + h, w[p + "attention.output.LayerNorm.weight"], w[p + "attention.output.LayerNorm.bias"], eps)
        f = gelu(linear(h, w[p + "intermediate.dense.weight"], w[p + "intermediate.dense.bias"]))
        f = linear(f, w[p + "output.dense.weight"], w[p + "output.dense.bias"])
        h = layer_norm(f + h, w[p + "output.LayerNorm.weight"], w[p + "output.LayerNorm.bias"], eps)
    t = gelu(linear(h, w["cls.predictions.transform.dense.weight"], w["cls.predictions.transform.dense.bias"]))
    t = layer_norm(t, w["cls.predictions.transform.LayerNorm.weight"], w["cls.predictions.transform.LayerNorm.bias"], eps)
    logits = t @ w["bert.embeddings.word_embeddings.weight"].T + w["cls.predictions.bias"]
    return h, logits, probs


# ---------------------------------------------------------------- decoder (LlamaForCausalLM)
dec_config = {
    "model_type": "llama", "vocab_size": 50, "hidden_size": 32, "num_hidden_layers": 2,
    "num_attention_heads": 4, "num_key_value_heads": 2, "intermediate_size": 48, "hidden_act": "silu",
    "max_position_embeddings": 64, "rms_norm_eps": 1e-6, "rope_theta": 1000.0,
    "tie_word_embeddings": False, "pad_token_id": None, "rope_scaling": None, "attention_bias": False,
    "architectures": ["LlamaForCausalLM"],
}


def make_decoder_weights(c):
    V, D, I = c["vocab_size"], c["hidden_size"], c["intermediate_size"]
    H, KV = c["num_attention_heads"], c["num_key_value_heads"]
    hd = D // H
    w = {"model.embed_tokens.weight": weight(V, D, std=0.5)}
    for i in range(c["num_hidden_layers"]):
        p = f"model.layers.{i}."
        w[p + "self_attn.q_proj.weight"] = weight(H * hd, D)
        w[p + "self_attn.k_proj.weight"] = weight(KV * hd, D)
        w[p + "self_attn.v_proj.weight"] = weight(KV * hd, D)
        w[p + "self_attn.o_proj.weight"] = weight(D, H * hd)
        w[p + "mlp.gate_proj.weight"] = weight(I, D)
        w[p + "mlp.up_proj.weight"] = weight(I, D)
        w[p + "mlp.down_proj.weight"] = weight(D, I)
        w[p + "input_layernorm.weight"] = near_one(D)
        w[p + "post_attention_layernorm.weight"] = near_one(D)
    w["model.norm.weight"] = near_one(D)
    w["lm_head.weight"] = weight(V, D)
    return w


def rotate_half(x):
    half = x.shape[-1] // 2
    return np.concatenate([-x[..., half:], x[..., :half]], axis=-1)


def decoder_forward(c, w, ids, mask):
    B, T = ids.shape
    D, H, KV = c["hidden_size"], c["num_attention_heads"], c["num_key_value_heads"]
    hd = D // H
    eps = c["rms_norm_eps"]
    inv_freq = 1.0 / (c["rope_theta"] ** (np.arange(0, hd, 2) / hd))
    freqs = np.outer(np.arange(T), inv_freq)
    emb = np.concatenate([freqs, freqs], axis=-1)
    cos, sin = np.cos(emb), np.sin(emb)
    causal = np.triu(np.ones((T, T)), 1)[None, None]
    blocked = np.maximum(causal, (1.0 - mask)[:, None, None, :])
    additive = blocked * np.finfo(np.float64).min
    h = w["model.embed_tokens.weight"][ids]
    probs = []
    for i in range(c["num_hidden_layers"]):
        p = f"model.layers.{i}."
        x = rms_norm(h, w[p + "input_layernorm.weight"], eps)

        def heads(name, n):
            return linear(x, w[p + name]).reshape(B, T, n, hd).transpose(0, 2, 1, 3)
        q = heads("self_attn.q_proj.weight", H)
        k = heads("self_attn.k_proj.weight", KV)
        v = heads("self_attn.v_proj.weight", KV)
        q = q * cos + rotate_half(q) * sin
        k = k * cos + rotate_half(k) * sin
        k = np.repeat(k, H // KV, axis=1)  # repeat_kv: kv head j serves query heads j*rep ... j*rep+rep-1
        v = np.repeat(v, H // KV, axis=1)
        ctx, pr = attention(q, k, v, additive)
        probs.append(pr)
        h = h + linear(ctx, w[p + "self_attn.o_proj.weight"])
        x = rms_norm(h, w[p + "post_attention_layernorm.weight"], eps)
        f = silu(linear(x, w[p + "mlp.gate_proj.weight"])) * linear(x, w[p + "mlp.up_proj.weight"])
        h = h + linear(f, w[p + "mlp.down_proj.weight"])
    h = rms_norm(h, w["model.norm.weight"], eps)
    return h, linear(h, w["lm_head.weight"]), probs


def tensor(a):
    a = np.asarray(a)
    return {"shape": list(a.shape), "data": [float("%.12g" % v) if a.dtype.kind == "f" else int(v) for v in a.reshape(-1)]}


def main():
    B, T = 2, 7
    # row 1 is padded: its last two tokens are padding (id 0, junk types) and masked out
    mask = np.array([[1] * T, [1] * (T - 2) + [0, 0]], dtype=np.float64)
    enc_w = make_encoder_weights(enc_config)
    ids = rng.integers(1, enc_config["vocab_size"], (B, T))
    ids[1, T - 2:] = enc_config["pad_token_id"]
    types = np.array([[0, 0, 0, 1, 1, 1, 1], [0, 0, 1, 1, 1, 0, 0]])
    h, logits, probs = encoder_forward(enc_config, enc_w, ids, mask, types)
    encoder = {
        "config": enc_config,
        "weights": {k: tensor(v) for k, v in enc_w.items()},
        "inputs": {"input_ids": tensor(ids), "attention_mask": tensor(mask.astype(np.int64)),
                   "token_type_ids": tensor(types)},
        "expected": {"last_hidden_state": tensor(h), "logits": tensor(logits),
                     "attentions.1": tensor(probs[1])},
    }

    dec_w = make_decoder_weights(dec_config)
    dids = rng.integers(0, dec_config["vocab_size"], (B, T))
    h, logits, probs = decoder_forward(dec_config, dec_w, dids, mask)
    decoder = {
        "config": dec_config,
        "weights": {k: tensor(v) for k, v in dec_w.items()},
        "inputs": {"input_ids": tensor(dids), "attention_mask": tensor(mask.astype(np.int64))},
        "expected": {"last_hidden_state": tensor(h), "logits": tensor(logits),
                     "attentions.1": tensor(probs[1])},
    }
    out = os.path.join(os.path.dirname(__file__), "..", "..", "Tests", "TesseraNNTests", "Golden", "nn.json")
    with open(out, "w") as f:
        json.dump({"generator": "scripts/golden/make_nn_golden.py", "encoder": encoder, "decoder": decoder}, f)
    print("wrote", os.path.normpath(out))


if __name__ == "__main__":
    main()
