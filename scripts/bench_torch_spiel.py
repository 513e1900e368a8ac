"""PyTorch + Hugging Face peft side of tessera-bench's `spiel` group: one LoRA update (rank 8, alpha
16, no dropout, the seven LLaMA projections, AdamW over the adapters, fp32, 2 threads) on the
SmolLM2-135M-shaped LlamaForCausalLM with batch 4 x 128, median of several steps; one JSON row in
tessera-bench's format.

usage: python bench_torch_spiel.py   (needs torch, transformers and peft, e.g. a throwaway venv)"""

import json
import time

import torch
from peft import LoraConfig, get_peft_model
from transformers import LlamaConfig, LlamaForCausalLM


def main():
    torch.set_num_threads(2)
    torch.manual_seed(0)
    config = LlamaConfig(
        vocab_size=49152, hidden_size=576, num_hidden_layers=30, num_attention_heads=9, num_key_value_heads=3,
        intermediate_size=1536, max_position_embeddings=2048, rms_norm_eps=1e-5, rope_theta=100000.0,
        tie_word_embeddings=True, attn_implementation="eager")
    model = LlamaForCausalLM(config)
    targets = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]
    model = get_peft_model(model, LoraConfig(r=8, lora_alpha=16, lora_dropout=0.0, target_modules=targets))
    model.train()
    trainable = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(trainable, lr=1e-4, weight_decay=0.0)
    ids = torch.randint(0, config.vocab_size, (4, 129))
    inputs, targets_ = ids[:, :-1], ids[:, 1:]

    def step():
        logits = model(input_ids=inputs).logits
        loss = torch.nn.functional.cross_entropy(logits.reshape(-1, config.vocab_size), targets_.reshape(-1))
        loss.backward()
        opt.step()
        opt.zero_grad(set_to_none=True)

    step()
    samples = []
    for _ in range(5):
        s = time.perf_counter()
        step()
        samples.append(time.perf_counter() - s)
    samples.sort()
    name = "SmolLM2-135M-shaped decoder (30L, H576), 4x128, rank 8 budget: PyTorch + peft LoRA r=8 step (AdamW)"
    print(json.dumps({"group": "spiel", "name": name, "value": samples[len(samples) // 2] * 1e3, "unit": "ms",
                      "raw": sum(p.numel() for p in trainable)}))


if __name__ == "__main__":
    main()
