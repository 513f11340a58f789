#!/usr/bin/env python3
"""Tokenization throughput of Python's sentencepiece (and, with --hf, Hugging Face's
tokenizers-backed AlbertTokenizer/BertTokenizer) on the lines of a text file, measured as
bench/tokenize_bench.cc measures cloze: each non-blank line (line end removed) is one
input, MB = 10^6 bytes of UTF-8 input, wall-clock time of one pass after an untimed pass
over the first 2 MB.

    python3 bench/tokenize_bench.py --file=/tmp/tokenize_20mb.txt --threads=1,2 \\
        --model=../shared/data/vocab/albert-base-v2-spiece.model \\
        [--hf --vocab=../shared/data/vocab/bert-base-uncased-vocab.txt]

Variants: "loop" calls sp.encode(line) once per line, like cloze's Encode; "batch" passes
the whole list to sp.encode(lines, num_threads=n) (sentencepiece's own C++ thread pool).
Hugging Face: encode_batch on the backend tokenizer; its Rust thread pool size is fixed
per process by RAYON_NUM_THREADS, so run once per thread count (the script re-executes
itself). Prints a markdown table, then one JSON line per measurement.
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

import sentencepiece


def read_lines(path):
    with open(path, encoding="utf-8", newline="") as f:
        lines = [l.rstrip("\r\n") for l in f]
    return [l for l in lines if l.strip(" \t")]


def warmup_count(lines):
    total = 0
    for i, line in enumerate(lines):
        total += len(line.encode("utf-8"))
        if total > 2_000_000:
            return i
    return len(lines)


def timed(fn):
    start = time.perf_counter()
    tokens = fn()
    return time.perf_counter() - start, tokens


def report(rows, nbytes, name, threads, seconds, tokens):
    rows.append({"program": "python", "tokenizer": name, "threads": threads,
                 "seconds": round(seconds, 4), "bytes": nbytes, "tokens": tokens})
    print(f"| {name} | {threads} | {seconds:.2f} | {nbytes / 1e6 / seconds:.2f} | "
          f"{tokens / seconds:.0f} | {tokens} |", flush=True)


def hf_tokenizers(model, vocab):
    import transformers
    folder = tempfile.mkdtemp()
    shutil.copy(model, os.path.join(folder, "spiece.model"))
    albert = transformers.AlbertTokenizer.from_pretrained(folder)
    shutil.rmtree(folder)
    bert = transformers.BertTokenizer(vocab, do_lower_case=True)
    return {"hf-albert": albert.backend_tokenizer, "hf-bert": bert.backend_tokenizer}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--file", required=True)
    parser.add_argument("--model", default="../shared/data/vocab/albert-base-v2-spiece.model")
    parser.add_argument("--vocab", default="../shared/data/vocab/bert-base-uncased-vocab.txt")
    parser.add_argument("--threads", default="1,2")
    parser.add_argument("--hf", action="store_true", help="also Hugging Face's tokenizers")
    parser.add_argument("--hf_only_threads", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args()

    lines = read_lines(args.file)
    nbytes = sum(len(l.encode("utf-8")) for l in lines)
    warm = lines[:warmup_count(lines)]
    rows = []
    if args.hf_only_threads:  # child process: one thread count for Rayon
        for name, tok in hf_tokenizers(args.model, args.vocab).items():
            tok.encode_batch(warm, add_special_tokens=False)
            seconds, tokens = timed(lambda: sum(len(e.ids) for e in tok.encode_batch(lines, add_special_tokens=False)))
            report(rows, nbytes, name, args.hf_only_threads, seconds, tokens)
        for row in rows:
            print(json.dumps(row), file=sys.stderr)
        return

    print(f"{args.file}: {len(lines)} lines, {nbytes / 1e6:.1f} MB\n")
    print("| tokenizer | threads | seconds | MB/s | tokens/s | tokens |\n|---|---|---|---|---|---|")
    sp = sentencepiece.SentencePieceProcessor(model_file=args.model)
    for line in warm:
        sp.encode(line)
    seconds, tokens = timed(lambda: sum(len(sp.encode(l)) for l in lines))
    report(rows, nbytes, "python-spm loop", 1, seconds, tokens)
    for threads in [int(t) for t in args.threads.split(",")]:
        sp.encode(warm, num_threads=threads)
        seconds, tokens = timed(lambda: sum(len(ids) for ids in sp.encode(lines, num_threads=threads)))
        report(rows, nbytes, "python-spm batch", threads, seconds, tokens)
    if args.hf:
        for threads in [int(t) for t in args.threads.split(",")]:
            env = dict(os.environ, RAYON_NUM_THREADS=str(threads), TOKENIZERS_PARALLELISM="true")
            child = subprocess.run([sys.executable, __file__, f"--file={args.file}", f"--model={args.model}",
                                    f"--vocab={args.vocab}", f"--hf_only_threads={threads}"],
                                   env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, check=True)
            sys.stdout.write(child.stdout)
            rows += [json.loads(l) for l in child.stderr.splitlines() if l.startswith("{")]
    print()
    for row in rows:
        print(json.dumps(row))


if __name__ == "__main__":
    main()
