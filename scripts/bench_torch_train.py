"""PyTorch side of `scripts/bench train --torch`: the same three training steps as tessera-bench's
`train` group (same shapes, AdamW over all parameters, fp32, dropout as configured, 2 threads),
built from Hugging Face transformers' BERT and LLaMA classes. Prints one JSON row per figure, in
tessera-bench's format, and the process's peak RSS.

usage: python bench_torch_train.py bert|minilm|decoder"""

import json
import resource
import sys
import time

import torch
import torch.nn.functional as F
from transformers import BertConfig, BertForMaskedLM, BertForSequenceClassification, LlamaConfig, LlamaForCausalLM


def median_step(step, budget=3.0):
    step()
    t0 = time.perf_counter()
    step()
    once = time.perf_counter() - t0
    samples = []
    for _ in range(max(3, min(200, int(budget / once)))):
        s = time.perf_counter()
        step()
        samples.append(time.perf_counter() - s)
    samples.sort()
    return samples[len(samples) // 2]


def main():
    torch.set_num_threads(2)
    torch.manual_seed(1)
    which = sys.argv[1]
    if which in ("bert", "minilm"):
        batch, seq = 16, 128
        layers, hidden, heads, ffn, vocab = (4, 256, 4, 1024, 8000) if which == "bert" else (6, 384, 12, 1536, 30522)
        config = BertConfig(
            vocab_size=vocab, hidden_size=hidden, num_hidden_layers=layers, num_attention_heads=heads,
            intermediate_size=ffn, max_position_embeddings=512)
        if which == "bert":
            name = "BERT-mini MLM (4L, H256, V8000)"
            model = BertForMaskedLM(config)
            labels = torch.randint(0, vocab, (batch * seq,))
            loss_of = lambda logits: F.cross_entropy(logits.reshape(-1, vocab), labels)
        else:
            name = "MiniLM-L6 classification (6L, H384, V30522)"
            config.num_labels = 2
            model = BertForSequenceClassification(config)
            labels = torch.randint(0, 2, (batch,))
            loss_of = lambda logits: F.cross_entropy(logits, labels)
    else:
        batch, seq, vocab = 4, 128, 49152
        name = "SmolLM2-135M-shaped decoder (30L, H576, GQA 9/3, V49152)"
        config = LlamaConfig(
            vocab_size=vocab, hidden_size=576, intermediate_size=1536, num_hidden_layers=30,
            num_attention_heads=9, num_key_value_heads=3, max_position_embeddings=2048,
            tie_word_embeddings=True)
        model = LlamaForCausalLM(config)
        labels = torch.randint(0, vocab, (batch * seq,))
        loss_of = lambda logits: F.cross_entropy(logits.reshape(-1, vocab), labels)
    model.train()
    ids = torch.randint(0, vocab, (batch, seq))
    opt = torch.optim.AdamW(model.parameters(), lr=1e-4)

    def step():
        loss_of(model(input_ids=ids).logits).backward()
        opt.step()
        opt.zero_grad(set_to_none=True)

    t = median_step(step)
    tokens = batch * seq
    for label, value, unit in [
        ("ms/step", t * 1e3, "ms"),
        ("tokens/s", tokens / t, "tok/s"),
        ("peak RSS", resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, "MB"),
    ]:
        print(json.dumps({"group": "train", "name": f"{name}: {label}", "value": value, "unit": unit}))
    print(json.dumps({"group": "train", "name": "versions", "value": 0, "unit": f"torch {torch.__version__}"}))


if __name__ == "__main__":
    main()
