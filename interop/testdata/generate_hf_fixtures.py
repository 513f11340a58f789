"""Tiny Hugging Face model folders saved by transformers itself, for interop/hf_saved_test.cc.

Each folder is what `save_pretrained` writes for a randomly initialised tiny model:
  albert_for_pretraining/  AlbertForPreTraining (prefixed names, SOP head, 2 shared groups)
  bert_for_masked_lm/      BertForMaskedLM (no pooler, no NSP head: both "missing" on import)
  albert_model_fp16/       AlbertModel in float16 (bare names "embeddings.*", F16 tensors)
and <folder>.expected.safetensors holds a padded two-segment batch (input.*) with HF's
outputs on it in eval mode: output.mlm_logits at input.masked_positions (flat b*T + t), or
output.last_hidden_state (B, T, H). The fp16 reference runs the float16 weights in float32,
which is what an importer that widens them computes.

Weights are HF's init plus N(0, 0.05) noise, so LayerNorm scales and biases are not the
trivial 1 and 0. Regenerate (needs torch and transformers) with
  python3 interop/testdata/generate_hf_fixtures.py
"""
import json
import os
import shutil

import torch
import transformers
from safetensors.torch import save_file

HERE = os.path.dirname(os.path.abspath(__file__))
SEED = 4242

TINY = dict(vocab_size=120, hidden_size=32, num_hidden_layers=4, num_attention_heads=4,
            intermediate_size=64, max_position_embeddings=16, type_vocab_size=2,
            hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0)


def perturb(model):
    with torch.no_grad():
        for p in model.parameters():
            p.add_(torch.randn_like(p) * 0.05)


def batch():
    ids = torch.tensor([[2, 15, 77, 31, 3, 44, 9, 101, 62, 3, 0, 0],
                        [2, 8, 118, 23, 54, 3, 19, 5, 88, 71, 13, 3]], dtype=torch.int64)
    types = torch.tensor([[0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 0, 0],
                          [0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1]], dtype=torch.int64)
    mask = torch.tensor([[1] * 10 + [0, 0], [1] * 12], dtype=torch.int64)
    positions = torch.tensor([2, 6, 8, 13, 16, 21], dtype=torch.int64)  # flat b*T + t
    return ids, types, mask, positions


def inputs_dict(ids, types, mask, positions):
    return {"input.input_ids": ids.int(), "input.token_type_ids": types.int(),
            "input.attention_mask": mask.int(), "input.masked_positions": positions.int()}


def save(model, name, outputs, half=False):
    folder = os.path.join(HERE, name)
    shutil.rmtree(folder, ignore_errors=True)
    (model.half() if half else model).save_pretrained(folder)
    ids, types, mask, positions = batch()
    tensors = inputs_dict(ids, types, mask, positions)
    tensors.update({k: v.float().contiguous() for k, v in outputs.items()})
    save_file(tensors, os.path.join(HERE, name + ".expected.safetensors"),
              metadata={"format": "cloze-hf-saved-v1", "hf_class": type(model).__name__,
                        "transformers": transformers.__version__, "torch": torch.__version__,
                        "seed": str(SEED)})


def mlm_logits(model, logits_attr):
    ids, types, mask, positions = batch()
    with torch.no_grad():
        out = model(input_ids=ids, token_type_ids=types, attention_mask=mask)
    logits = getattr(out, logits_attr)
    return {"output.mlm_logits": logits.reshape(-1, logits.shape[-1])[positions]}


def main():
    torch.manual_seed(SEED)
    albert = dict(TINY, embedding_size=16, num_hidden_groups=2, hidden_act="gelu_new",
                  classifier_dropout_prob=0.0)

    model = transformers.AlbertForPreTraining(transformers.AlbertConfig(**albert)).eval()
    perturb(model)
    save(model, "albert_for_pretraining", mlm_logits(model, "prediction_logits"))

    model = transformers.BertForMaskedLM(transformers.BertConfig(**dict(TINY, num_hidden_layers=2))).eval()
    perturb(model)
    save(model, "bert_for_masked_lm", mlm_logits(model, "logits"))

    model = transformers.AlbertModel(transformers.AlbertConfig(**dict(albert, num_hidden_groups=1))).eval()
    perturb(model)
    model.half().float()  # the weights as float16 stores them
    ids, types, mask, _ = batch()
    with torch.no_grad():
        hidden = model(input_ids=ids, token_type_ids=types, attention_mask=mask).last_hidden_state
    save(model, "albert_model_fp16", {"output.last_hidden_state": hidden}, half=True)


if __name__ == "__main__":
    main()
