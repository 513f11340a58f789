#!/usr/bin/env python3
"""Builds corpus/demo/ from ../shared/data: the small corpus the README's main job
prepares and pretrains on. Output format is cloze's raw-text input: one sentence per
line, a blank line between documents, UTF-8, LF.

    python3 corpus/make_demo_corpus.py [--shared ../shared/data]

Deterministic; the output is committed (see corpus/README.md for sources and licences).
"""

import argparse
import io
import os
import re
import tarfile
import lzma

HERE = os.path.dirname(os.path.abspath(__file__))


ABBREVIATIONS = ["Mr", "Mrs", "Ms", "Dr", "St", "Jan", "Feb", "Mar", "Apr", "Jun", "Jul", "Aug", "Sep", "Sept",
                 "Oct", "Nov", "Dec", "No", "Vol", "Co", "Lt", "Col", "Gen", "Capt", "Sgt", "Jr", "Sr", "vs"]
NOT_AFTER = "".join(rf"(?<!\b{a}\.)" for a in ABBREVIATIONS) + r"(?<!\b[A-Z]\.)"


def sentences_en(paragraph):
    """Splits an English paragraph after . ! ? followed by a space and a capital/quote,
    except after common abbreviations and initials."""
    marked = re.sub(r'([.!?]["\u201d\u2019\']?)' + NOT_AFTER + r'\s+(?=["\u201c\u2018(]?[A-Z0-9])', "\\1\n",
                    paragraph.strip())
    return [p.strip() for p in marked.split("\n") if p.strip()]


def wikitext(shared):
    """WikiText-2 (raw) test set: an article per document; the tokenizer's @-@ style
    joins undone; headings dropped."""
    text = open(os.path.join(shared, "wikitext-2-raw/wiki.test.raw"), encoding="utf-8").read()
    documents, current = [], []
    for line in text.replace("\r\n", "\n").split("\n"):
        line = line.strip()
        if re.fullmatch(r"= [^=].*[^=] =", line):  # a new article
            if current:
                documents.append(current)
            current = []
            continue
        if not line or line.startswith("="):
            continue
        line = line.replace(" @-@ ", "-").replace(" @,@ ", ",").replace(" @.@ ", ".")
        line = re.sub(r" ([.,;:!?)'])", r"\1", line).replace("( ", "(")
        current.extend(sentences_en(line))
    if current:
        documents.append(current)
    return documents


def frankenstein(shared):
    """Mary Shelley's Frankenstein (Project Gutenberg #84), header and footer removed:
    a letter or chapter per document, hard-wrapped paragraphs joined."""
    with tarfile.open(fileobj=io.BytesIO(lzma.open(os.path.join(shared, "books/en-gutenberg.tar.xz")).read())) as tar:
        member = next(m for m in tar.getmembers() if m.name.endswith("pg84-frankenstein.txt"))
        lines = tar.extractfile(member).read().decode("utf-8-sig").replace("\r\n", "\n").split("\n")
    lines = lines[28:7390]  # strictly between the START and END markers (books/README.md)
    documents, current, paragraph = [], [], []

    def flush_paragraph():
        if paragraph:
            current.extend(sentences_en(" ".join(paragraph)))
            paragraph.clear()

    for line in lines:
        stripped = line.strip()
        if re.fullmatch(r"(Letter|Chapter) \d+", stripped):
            flush_paragraph()
            if current:
                documents.append(list(current))
            current.clear()
        elif not stripped:
            flush_paragraph()
        else:
            paragraph.append(stripped)
    flush_paragraph()
    if current:
        documents.append(current)
    return documents[1:]  # the table of contents comes first


def cmrc(shared, passages=200):
    """The first Chinese Wikipedia passages of CMRC 2018, a passage per document."""
    documents = []
    for line in open(os.path.join(shared, "zh-cmrc2018/cmrc2018_dev_trial_contexts.txt"), encoding="utf-8"):
        parts = re.split(r"(?<=[。！？])", line.strip())
        sentences = [p.strip() for p in parts if p.strip()]
        if sentences:
            documents.append(sentences)
        if len(documents) == passages:
            break
    return documents


def write(name, documents):
    path = os.path.join(HERE, "demo", name)
    with open(path, "w", encoding="utf-8", newline="\n") as out:
        out.write("\n\n".join("\n".join(d) for d in documents) + "\n")
    print(f"{path}: {len(documents)} documents, {sum(len(d) for d in documents)} sentences, "
          f"{os.path.getsize(path)} bytes")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--shared", default=os.path.join(HERE, "..", "..", "shared", "data"))
    args = parser.parse_args()
    os.makedirs(os.path.join(HERE, "demo"), exist_ok=True)
    write("wikitext-2-test.txt", wikitext(args.shared))
    write("frankenstein.txt", frankenstein(args.shared))
    write("cmrc2018-zh.txt", cmrc(args.shared))


if __name__ == "__main__":
    main()
