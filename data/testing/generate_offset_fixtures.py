#!/usr/bin/env python3
"""Writes data/testdata/offset_fixtures.jsonl: real and tricky texts with the ids and the
byte spans that Hugging Face's fast tokenizers give them (`return_offsets_mapping`). The C++
test data/token_offsets_test.cc requires exactly these ids and spans from EncodeWithOffsets.

Needs: pip install transformers tokenizers sentencepiece protobuf. Run from the repository
root:

    python3 data/testing/generate_offset_fixtures.py [--shared ../shared/data]

Each line after the first (metadata) is one case:
  {"source": ..., "text": ...,
   "albert": {"ids": [...], "spans": [[begin, end], ...]},
   "bert": {"ids": [...], "spans": [[begin, end], ...]},
   "hf_albert_spans": [...],          (only where cloze's convention differs from HF's)
   "differs": {"albert": "why"}}      (only where no reference exists for cloze's ids)
Spans are [begin, end) BYTE offsets into the UTF-8 text (HF counts code points; they are
converted here).

  albert: AlbertTokenizerFast (albert-base-v2 spiece.model) = cloze "spm-albert:".
  bert:   BertTokenizerFast (uncased vocab.txt, do_lower_case) = cloze "wordpiece:".
Both run without their added tokens, which is split_special_tokens=True for the special ones
(text that looks like "[MASK]" is text) and, for ALBERT, treats the user-defined pieces
( ) " - . – £ € as SentencePiece does (always a piece of their own, inside the model): the
ids then equal cloze's, which equal Python sentencepiece on HF-normalised text (see
data/testdata/make_tokenizer_fixtures.py).

cloze's convention differs from HF's ALBERT offsets in two documented places, applied here
and recorded in hf_albert_spans:
  - a lone "▁" piece (the word-boundary marker that SentencePiece emits on its own before a
    word whose first character cannot follow it in a piece, e.g. "▁" "(" or "▁" "中"):
    HF gives it the span of the word's first character, overlapping the next token. cloze
    gives it the EMPTY span [b, b) at the start of that character: it stands for no text.
  - "``" and "''", which ALBERT's normaliser turns into '"': HF's Replace normaliser credits
    the '"' to the second character only; cloze gives it both. The generator makes the
    replacement itself before HF sees the text and maps the spans back.
"""

import argparse
import json
import lzma
import os
import shutil
import tempfile

import sentencepiece
import tokenizers
import transformers

ALBERT_MODEL = "vocab/albert-base-v2-spiece.model"
BERT_VOCAB = "vocab/bert-base-uncased-vocab.txt"
BOUNDARY = "\u2581"

TRICKY = [
    "",
    "   ",
    " \t\r\n ",
    "the cat",
    "  leading and trailing spaces  ",
    "multiple   spaces\t\ttabs\nnewlines\r\nand\x0cform feeds",
    "Café naïve résumé Ångström façade Zoë coöperate",
    "e\u0301 combining acute after e, xe\u0301 and a lone \u0301 mark",
    "a\u0323\u0301 reordered marks o\u0301\u0328",
    "ΟΔΟΣ Ελληνικά κείμενα",
    "İstanbul ǅemal ﬁnance x² Ⅻ ＡＢＣ１２３ ｶﾀｶﾅ ½ ㎏",
    "I \u2764\ufe0f \U0001F917 emoji \U0001F44D\U0001F3FD and \U0001F468\u200d\U0001F469\u200d\U0001F467 family",
    "BERT和ALBERT都是模型。日本語のテキスト。한국어 텍스트。",
    "中文",
    " 中文 x",
    "CJK compatibility \uf900\ufa0a, extension B \U00020000\U0002A6D6, ideographic\u3000space",
    "control a\x00b\x01c\x7fd\u200be\ufefff\u00adg\ufffdh end",
    "a \x01 b\x01 \x01c",
    "a" * 100 + " " + "b" * 101 + " c",
    "supercalifragilisticexpialidocious antidisestablishmentarianism pneumonoultramicroscopic",
    "``double quoted'' and 'single' \u201csmart\u201d \u2018quotes\u2019 it''s ``",
    "```triple''' and ``''",
    "(a) the (parenthesis) - dash. £5 €10 – en dash",
    "1,000,000 people in 9, or 3.14159 and 2,5%",
    "don't won't U.S.A. e-mail @-@ $5.00 #hashtag a/b\\c {x|y} ~tilde^",
    "\u0939\u093f\u0928\u094d\u0926\u0940 \u0e20\u0e32\u0e29\u0e32\u0e44\u0e17\u0e22 \u0627\u0644\u0639\u0631\u0628\u064a\u0629",
    "math ≠ ≤ ∑ ∫ √2 ½ ¼ µm °C ™ © ®",
    "[MASK] [CLS] [SEP] [UNK] [PAD]",
    "<pad> and <unk> in text",
    "ΣΟΦΟΣ ΛΟΓΟΣ",
    "x\u0903y \u0915\u093e",
    "\u1100\u1161\u11a8 conjoining jamo and \uac01",
    "nbsp\u00a0here, thin\u2009space, line\u2028separator",
]

WHY_UNIGRAM_SPECIALS = ("HF's Unigram model matches the control pieces <pad>/<unk> in text, "
                        "SentencePiece never does: its ids are not cloze's, so it has no spans "
                        "for them")


def read_lines(path):
    with open(path, encoding="utf-8", newline="") as f:
        return [line.rstrip("\r\n") for line in f.read().split("\n")]


def every_nth(items, count):
    step = max(1, len(items) // count)
    return items[::step][:count]


def wikitext(shared, count):
    lines = [l for l in read_lines(os.path.join(shared, "wikitext-2-raw/wiki.test.raw")) if l.strip()]
    return every_nth(lines, count)


def squad_contexts(shared, count):
    with lzma.open(os.path.join(shared, "squad-v1.1/dev-v1.1.json.xz"), "rt", encoding="utf-8") as f:
        data = json.load(f)
    contexts = [p["context"] for article in data["data"] for p in article["paragraphs"]]
    return every_nth(contexts, count)


def chinese(shared, count, max_chars):
    lines = read_lines(os.path.join(shared, "zh-cmrc2018/cmrc2018_dev_trial_contexts.txt"))
    return every_nth([l[:max_chars] for l in lines if l.strip()], count)


def without_added_tokens(fast):
    """The backend of `fast` with no added tokens and no post-processor."""
    config = json.loads(fast.backend_tokenizer.to_str())
    config["added_tokens"] = []
    config["post_processor"] = None
    return tokenizers.Tokenizer.from_str(json.dumps(config))


def byte_offsets(text):
    """Byte offset of every code point index of `text`, and of its end."""
    offsets = [0]
    for c in text:
        offsets.append(offsets[-1] + len(c.encode("utf-8")))
    return offsets


def replace_doubled_quotes(text):
    """ALBERT's ``/'' -> '"' replacement, with the original [begin, end) code points of every
    character of the result."""
    out, origins = [], []
    i = 0
    while i < len(text):
        if text[i] in "`'" and i + 1 < len(text) and text[i + 1] == text[i]:
            out.append('"')
            origins.append((i, i + 2))
            i += 2
        else:
            out.append(text[i])
            origins.append((i, i + 1))
            i += 1
    return "".join(out), origins


def albert_case(tokenizer, text):
    """(ids, cloze spans, HF's own spans) in bytes."""
    to_bytes = byte_offsets(text)
    encoding = tokenizer.encode(text, add_special_tokens=False)
    hf = [[to_bytes[b], to_bytes[e]] for b, e in encoding.offsets]
    replaced, origins = replace_doubled_quotes(text)
    encoding = tokenizer.encode(replaced, add_special_tokens=False)
    assert encoding.ids == tokenizer.encode(text, add_special_tokens=False).ids
    spans = []
    for token, (b, e) in zip(encoding.tokens, encoding.offsets):
        begin = to_bytes[origins[b][0]] if b < len(origins) else len(text.encode("utf-8"))
        end = to_bytes[origins[e - 1][1]] if e > b else begin
        if token == BOUNDARY:
            end = begin
        spans.append([begin, end])
    # Only the two documented departures from HF's spans, nothing else.
    data = text.encode("utf-8")
    for token, span, hf_span in zip(encoding.tokens, spans, hf):
        quotes = data[span[0]:span[1]] in (b"``", b"''")
        assert span == hf_span or token == BOUNDARY or quotes, (text, token, span, hf_span)
    return encoding.ids, spans, hf


def bert_case(tokenizer, text):
    to_bytes = byte_offsets(text)
    encoding = tokenizer.encode(text, add_special_tokens=False)
    return encoding.ids, [[to_bytes[b], to_bytes[e]] for b, e in encoding.offsets]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--shared", default="../shared/data")
    parser.add_argument("--out", default="data/testdata/offset_fixtures.jsonl")
    args = parser.parse_args()

    sp = sentencepiece.SentencePieceProcessor(model_file=os.path.join(args.shared, ALBERT_MODEL))
    with tempfile.TemporaryDirectory() as folder:
        shutil.copy(os.path.join(args.shared, ALBERT_MODEL), os.path.join(folder, "spiece.model"))
        albert_fast = transformers.AlbertTokenizerFast.from_pretrained(folder)
    bert_fast = transformers.BertTokenizerFast(os.path.join(args.shared, BERT_VOCAB), do_lower_case=True)
    albert, bert = without_added_tokens(albert_fast), without_added_tokens(bert_fast)
    whitespace = tokenizers.pre_tokenizers.WhitespaceSplit()

    def albert_spm_ids(text):  # cloze's spm-albert ids, independently of HF's model
        normalized = albert.normalizer.normalize_str(text)
        return sp.encode(" ".join(w for w, _ in whitespace.pre_tokenize_str(normalized)))

    cases = [("wikitext-2", t) for t in wikitext(args.shared, 40)]
    cases += [("squad", t) for t in squad_contexts(args.shared, 30)]
    cases += [("cmrc2018", t) for t in chinese(args.shared, 30, 200)]
    cases += [("tricky", t) for t in TRICKY]

    adjusted = 0
    with open(args.out, "w", encoding="utf-8") as out:
        meta = {"sentencepiece": sentencepiece.__version__, "transformers": transformers.__version__,
                "tokenizers": tokenizers.__version__, "albert_model": ALBERT_MODEL,
                "bert_vocab": BERT_VOCAB}
        out.write(json.dumps({"meta": meta}, ensure_ascii=False) + "\n")
        for source, text in cases:
            case = {"source": source, "text": text}
            ids, spans, hf = albert_case(albert, text)
            if ids == albert_spm_ids(text):
                case["albert"] = {"ids": ids, "spans": spans}
                if spans != hf:
                    case["hf_albert_spans"] = hf
                    adjusted += 1
            else:
                case["albert"] = {"ids": albert_spm_ids(text), "spans": None}
                case["differs"] = {"albert": WHY_UNIGRAM_SPECIALS}
            ids, spans = bert_case(bert, text)
            case["bert"] = {"ids": ids, "spans": spans}
            out.write(json.dumps(case, ensure_ascii=False, separators=(",", ":")) + "\n")
    print(f"wrote {len(cases)} cases to {args.out} ({os.path.getsize(args.out)} bytes); "
          f"{adjusted} with ALBERT spans adjusted to cloze's convention")


if __name__ == "__main__":
    main()
