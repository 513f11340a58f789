#!/usr/bin/env python3
"""A Chinese sentence-classification task from the three classical novels in ../shared/data.

Which novel is this passage from? (红楼梦 Dream of the Red Chamber, 三国演义 Romance of the
Three Kingdoms, 西游记 Journey to the West.) No labelled Chinese task ships in ../shared/data
(its CMRC 2018 file has contexts but no questions), so this is the Chinese fine-tuning check
of `cloze finetune --task=generic`: the files are JSONL in CLUE's TNEWS layout ("sentence",
"label", "label_desc"), the format Chinese classification tasks come in.

Passages are whole sentences (split after 。！？, closing quotes kept) joined until they reach
--min_chars Han characters. Train and dev come from different parts of each book (dev: the
last --dev_share of its passages), so a dev passage's neighbours were never trained on. The
task is easy where a passage names a hero (孙悟空, 贾宝玉, 曹操); short passages keep it from
being trivial. Deterministic: the same --seed gives the same files.

usage: make_zh_novels_task.py --books=../shared/data/books/zh-classics --output=DIR
"""
import argparse
import json
import os
import random
import re

NOVELS = [  # (file, label, description)
    ("zh-hongloumeng.txt", "hongloumeng", "红楼梦"),
    ("zh-sanguoyanyi.txt", "sanguoyanyi", "三国演义"),
    ("zh-xiyouji.txt", "xiyouji", "西游记"),
]
CHAPTER_TITLE = re.compile(r"^第[0-9〇零一二三四五六七八九十百千]+回")
SENTENCE_END = re.compile(r"([。！？][”」』’]?)")


def han_count(text):
    return sum(1 for c in text if "\u4e00" <= c <= "\u9fff")


def body_lines(path):
    """The book's prose lines: BOM, indentation and chapter titles dropped."""
    with open(path, encoding="utf-8-sig") as f:
        for line in f:
            line = line.strip().strip("\u3000").strip()
            if line and not CHAPTER_TITLE.match(line) and han_count(line) > 0:
                yield line


def sentences(line):
    parts = SENTENCE_END.split(line)
    # split() with a group alternates text and terminator: glue each terminator back on.
    for i in range(0, len(parts), 2):
        s = parts[i] + (parts[i + 1] if i + 1 < len(parts) else "")
        if s.strip():
            yield s.strip()


def passages(path, min_chars, max_chars):
    """Consecutive sentences of one paragraph joined until min_chars Han characters."""
    for line in body_lines(path):
        current = ""
        for s in sentences(line):
            current += s
            if han_count(current) >= min_chars:
                if len(current) <= max_chars:
                    yield current
                current = ""


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--books", required=True, help="the zh-classics folder")
    ap.add_argument("--output", required=True)
    ap.add_argument("--train_per_book", type=int, default=1500)
    ap.add_argument("--dev_per_book", type=int, default=300)
    ap.add_argument("--dev_share", type=float, default=0.15)
    ap.add_argument("--min_chars", type=int, default=24)
    ap.add_argument("--max_chars", type=int, default=80)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    rng = random.Random(args.seed)
    train, dev = [], []
    for file, label, desc in NOVELS:
        items = list(passages(os.path.join(args.books, file), args.min_chars, args.max_chars))
        cut = int(len(items) * (1 - args.dev_share))
        pool_train, pool_dev = items[:cut], items[cut:]
        if len(pool_train) < args.train_per_book or len(pool_dev) < args.dev_per_book:
            raise SystemExit(f"{file}: {len(pool_train)} train and {len(pool_dev)} dev passages, "
                             f"fewer than --train_per_book={args.train_per_book} / --dev_per_book={args.dev_per_book}")
        rows = lambda chosen: [{"sentence": s, "label": label, "label_desc": desc} for s in chosen]
        train += rows(rng.sample(pool_train, args.train_per_book))
        dev += rows(rng.sample(pool_dev, args.dev_per_book))
    rng.shuffle(train)
    rng.shuffle(dev)
    os.makedirs(args.output, exist_ok=True)
    for name, rows in (("train.jsonl", train), ("dev.jsonl", dev)):
        with open(os.path.join(args.output, name), "w", encoding="utf-8") as f:
            for r in rows:
                f.write(json.dumps(r, ensure_ascii=False) + "\n")
    print(f"{args.output}: {len(train)} train, {len(dev)} dev passages over {len(NOVELS)} novels")


if __name__ == "__main__":
    main()
