#!/usr/bin/env python3
"""The independent reference for bench/synthetic_plateau.sh: Hugging Face's AlbertForMaskedLM
of ALBERT-tiny's size, trained in PyTorch on the same counting corpus and tokenizer (plain
15% token masking, all [MASK]; batch 16 of 64 pieces; AdamW, 20% warmup, linear decay) and its
MLM accuracy every 25 steps. Needs torch, transformers and sentencepiece.

  python bench/synthetic_plateau_hf.py [WORK=/tmp/synthetic-plateau] [STEPS=300] [LR=1e-3]
"""
import random
import sys

import sentencepiece
import torch
from transformers import AlbertConfig, AlbertForMaskedLM


def main(work, steps, lr):
    torch.manual_seed(0)
    random.seed(0)
    torch.set_num_threads(2)
    sp = sentencepiece.SentencePieceProcessor(model_file=f"{work}/data/tokenizer.model")
    mask, cls, sep = (sp.piece_to_id(p) for p in ("[MASK]", "[CLS]", "[SEP]"))
    ids = []
    for line in open(f"{work}/corpus/count.txt", encoding="utf-8"):
        if line.strip():
            ids += sp.encode(line.strip())
    length = 64
    sequences = [[cls] + ids[i:i + length - 2] + [sep] for i in range(0, len(ids) - length, length - 2)]
    config = AlbertConfig(vocab_size=sp.get_piece_size(), embedding_size=128, hidden_size=256,
                          num_hidden_layers=4, num_attention_heads=4, intermediate_size=1024,
                          hidden_act="gelu_new", hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0)
    model = AlbertForMaskedLM(config)
    optimizer = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=0.01)
    warmup = steps // 5
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda s: min((s + 1) / warmup, max(0.0, (steps - s) / (steps - warmup))))
    print("step  MLM loss  MLM accuracy (mean over 25 steps)")
    accuracies = []
    for step in range(1, steps + 1):
        batch = torch.tensor(random.sample(sequences, 16))
        masked = torch.rand(batch.shape) < 0.15
        masked[:, 0] = masked[:, -1] = False
        labels = torch.full_like(batch, -100)
        labels[masked] = batch[masked]
        out = model(input_ids=batch.masked_fill(masked, mask), labels=labels)
        out.loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        schedule.step()
        optimizer.zero_grad()
        accuracies.append((out.logits.argmax(-1)[masked] == batch[masked]).float().mean().item())
        if step % 25 == 0:
            print(f"{step:4d}  {out.loss.item():8.3f}  {sum(accuracies) / len(accuracies):8.3f}", flush=True)
            accuracies = []


if __name__ == "__main__":
    args = sys.argv[1:]
    main(args[0] if args else "/tmp/synthetic-plateau", int(args[1]) if len(args) > 1 else 300,
         float(args[2]) if len(args) > 2 else 1e-3)
