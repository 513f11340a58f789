"""Checks cloze's exported HF folders with transformers (run by hf_parity_test.sh).

For each case hf_parity_writer wrote: AutoTokenizer must load the folder and encode every
sentence to cloze's ids (and each pair to the batch row), and AutoModelFor<head> must load
it with nothing missing or unexpected (the pretraining head's MLM decoder re-tied to the word
embeddings) and give cloze's logits within 1e-5 on cloze's batch.
Exits 1 on any failure.
"""
import json
import os
import sys

import torch
import transformers
from safetensors.torch import load_file
from safetensors import safe_open

TOLERANCE = 1e-5


def check_case(case_dir):
    failures = []
    path = os.path.join(case_dir, "cloze.safetensors")
    tensors = load_file(path)
    with safe_open(path, "pt") as f:
        meta = f.metadata()
    folder = os.path.join(case_dir, "model")

    tokenizer = transformers.AutoTokenizer.from_pretrained(folder)
    sentences = json.loads(meta["sentences"])
    for i, text in enumerate(sentences):
        ours = tensors["text.%d.ids" % i].tolist()
        theirs = tokenizer(text, add_special_tokens=False)["input_ids"] if text else []
        if ours != theirs:
            failures.append("tokenizer: %r -> cloze %s, HF %s" % (text, ours, theirs))
    ids, types, mask = (tensors["input." + k].long() for k in ("input_ids", "token_type_ids", "attention_mask"))
    for row in range(ids.shape[0]):
        a, b = sentences[2 * row], sentences[2 * row + 1]
        encoded = tokenizer(a, b if b else None, return_token_type_ids=True)
        used = int(mask[row].sum())
        if encoded["input_ids"] != ids[row, :used].tolist() or encoded["token_type_ids"] != types[row, :used].tolist():
            failures.append("tokenizer: pair %d -> HF %s / %s, cloze %s / %s" % (
                row, encoded["input_ids"], encoded["token_type_ids"], ids[row, :used].tolist(),
                types[row, :used].tolist()))

    auto_class = getattr(transformers, meta["auto_class"])
    model, info = auto_class.from_pretrained(folder, output_loading_info=True)
    model.eval()
    for key in ("missing_keys", "unexpected_keys", "mismatched_keys"):
        if info.get(key):
            failures.append("%s: %s" % (key, sorted(info[key])))
    if model.config.num_labels != int(meta["num_labels"]) and meta["head"] not in ("span_extraction", "pretraining"):
        failures.append("num_labels %d, cloze %s" % (model.config.num_labels, meta["num_labels"]))
    with torch.no_grad():
        out = model(input_ids=ids, token_type_ids=types, attention_mask=mask)
    if meta["head"] == "span_extraction":
        hf_logits = [out.start_logits, out.end_logits]
    elif meta["head"] == "pretraining":  # MLM at cloze's masked positions, then SOP / NSP
        positions = tensors["input.masked_positions"].long()
        mlm = out.prediction_logits.reshape(-1, out.prediction_logits.shape[-1])[positions]
        sentence = out.sop_logits if hasattr(out, "sop_logits") else out.seq_relationship_logits
        hf_logits = [mlm, sentence]
    else:
        hf_logits = [out.logits]
    worst, scale = 0.0, 0.0
    for k, logits in enumerate(hf_logits):
        ours = tensors["output.logits.%d" % k]
        theirs = logits.reshape(-1).float()
        if ours.shape != theirs.shape:
            failures.append("logits %d: shape %s, HF %s" % (k, tuple(ours.shape), tuple(theirs.shape)))
            continue
        worst = max(worst, float((ours - theirs).abs().max()))
        scale = max(scale, float(theirs.abs().max()))
    if worst > TOLERANCE:
        failures.append("logits differ by %.3g > %g" % (worst, TOLERANCE))
    print("%-34s %-4s max |logits diff| %.2e (max |logit| %.3f)" % (
        os.path.basename(case_dir), "FAIL" if failures else "ok", worst, scale))
    return failures


def main():
    root = sys.argv[1]
    cases = sorted(os.listdir(root))
    if not cases:
        print("no cases in " + root)
        return 1
    failed = 0
    for case in cases:
        for failure in check_case(os.path.join(root, case)):
            print("  " + case + ": " + failure)
            failed += 1
    print("transformers %s, torch %s: %d cases, %d failures" % (transformers.__version__, torch.__version__,
                                                                len(cases), failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
