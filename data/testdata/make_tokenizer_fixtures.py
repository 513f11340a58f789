#!/usr/bin/env python3
"""Writes data/testdata/tokenizer_fixtures.jsonl: real and tricky texts with the ids that the
reference tokenizers give them. The C++ tokenizer tests require exactly these ids.

Needs: pip install sentencepiece transformers tokenizers protobuf
(protobuf lets transformers read the .model file). Run from the repository root:

    python3 data/testdata/make_tokenizer_fixtures.py [--shared ../shared/data]

Each line after the first (metadata) is one case:
  {"source": ..., "text": ..., "spm": [...], "albert": [...], "bert": [...],
   "albert_spm": [...], "albert_google": [...], "differs": {"<reference>": "why"}}
  spm:           sentencepiece.SentencePieceProcessor(official ALBERT model).encode(text)
  albert:        transformers.AlbertTokenizer (do_lower_case=True, keep_accents=False)
  albert_spm:    sentencepiece encode of the text as AlbertTokenizer normalises it (its
                 normalizer, then whitespace split and joined by one space): cloze's
                 "spm-albert:". Written only where it differs from albert.
  albert_google: ALBERT's own tokenization.py (preprocess_text(lower=True) + encode_pieces,
                 with its "9," split) over sentencepiece. Written only where it differs from
                 albert_spm.
  bert:          transformers.BertTokenizer(vocab, do_lower_case=True) (in transformers 5 the
                 tokenizers-backed one)
  differs:       references that disagree with albert_spm on this case, and why; cloze
                 matches albert_spm, so it differs from them there on purpose.
No special tokens are added, and text that looks like a special token ("[MASK]") is text:
split_special_tokens=True, as cloze never reads markup out of a corpus.
"""

import argparse
import json
import os
import shutil
import tempfile

import sentencepiece
import tokenizers
import transformers

ALBERT_MODEL = "vocab/albert-base-v2-spiece.model"
BERT_VOCAB = "vocab/bert-base-uncased-vocab.txt"

# Strings that exercise normalisation and splitting edge cases.
TRICKY = [
    "",
    "   ",
    " \t\r\n ",
    "Café naïve résumé Ångström façade Zoë coöperate",
    "e\u0301 combining acute after e, and a lone \u0301 mark",
    "ΟΔΟΣ Ελληνικά κείμενα",
    "İstanbul ǅemal ﬁnance x² Ⅻ ＡＢＣ１２３ ｶﾀｶﾅ",
    "I \u2764\ufe0f \U0001F917 emoji \U0001F44D\U0001F3FD and \U0001F468\u200d\U0001F469\u200d\U0001F467 family",
    "BERT和ALBERT都是模型。日本語のテキスト。한국어 텍스트。",
    "CJK compatibility \uf900\ufa0a, extension B \U00020000\U0002A6D6, ideographic\u3000space",
    "control a\x00b\x01c\x7fd\u200be\ufefff\u00adg\ufffdh end",
    "tab\tnewline\nreturn\r\nform\x0cfeed",
    "a" * 100 + " " + "b" * 101,
    "supercalifragilisticexpialidocious antidisestablishmentarianism pneumonoultramicroscopic",
    "``double quoted'' and 'single' \u201csmart\u201d \u2018quotes\u2019",
    "1,000,000 people in 9, or 3.14159 and 2,5%",
    "don't won't U.S.A. e-mail @-@ $5.00 #hashtag a/b\\c {x|y} ~tilde^",
    "\u0939\u093f\u0928\u094d\u0926\u0940 \u0e20\u0e32\u0e29\u0e32\u0e44\u0e17\u0e22 \u0627\u0644\u0639\u0631\u0628\u064a\u0629",
    "math ≠ ≤ ∑ ∫ √2 ½ ¼ µm °C ™ © ®",
    "[MASK] [CLS] [SEP] [UNK] [PAD]",
]

TRICKY += ["<pad> and <unk> in text", "ΣΟΦΟΣ ΛΟΓΟΣ", "x\u0903y \u0915\u093e"]

WHY_HF = ("Hugging Face splits ALBERT's user-defined pieces ( ) \" - . – £ € out as added tokens "
          "before the model, dropping the '▁' piece SentencePiece puts before them and adding one "
          "after, and its Unigram model matches <pad>/<unk> in text")
WHY_GOOGLE = ("ALBERT's preprocess_text lower-cases with Python's str.lower() (final sigma), "
              "removes only marks with a combining class, and encode_pieces splits '9,' pieces")


# ALBERT's tokenization.py (google-research/albert, Apache 2.0), the parts FullTokenizer uses
# for an spm model with do_lower_case=True; Python 3 only.
def albert_preprocess_text(inputs):
    import unicodedata
    outputs = " ".join(inputs.strip().split())
    outputs = outputs.replace("``", '"').replace("''", '"')
    outputs = unicodedata.normalize("NFKD", outputs)
    outputs = "".join([c for c in outputs if not unicodedata.combining(c)])
    return outputs.lower()


def albert_encode_pieces(sp_model, text):
    pieces = sp_model.EncodeAsPieces(text)
    new_pieces = []
    for piece in pieces:
        if len(piece) > 1 and piece[-1] == "," and piece[-2].isdigit():
            cur_pieces = sp_model.EncodeAsPieces(piece[:-1].replace("\u2581", ""))
            if piece[0] != "\u2581" and cur_pieces[0][0] == "\u2581":
                if len(cur_pieces[0]) == 1:
                    cur_pieces = cur_pieces[1:]
                else:
                    cur_pieces[0] = cur_pieces[0][1:]
            cur_pieces.append(piece[-1])
            new_pieces.extend(cur_pieces)
        else:
            new_pieces.append(piece)
    return new_pieces


def read_lines(path):
    with open(path, encoding="utf-8", newline="") as f:
        return [line.rstrip("\r\n") for line in f.read().split("\n")]


def english(shared, count):
    lines = [l for l in read_lines(os.path.join(shared, "wikitext-2-raw/wiki.test.raw")) if l.strip()]
    step = len(lines) // count
    return [lines[i * step] for i in range(count)]


def chinese_sentences(path, count, max_chars):
    sentences = []
    for line in read_lines(path):
        for s in line.replace("。", "。\n").split("\n"):
            if 0 < len(s.strip()) <= max_chars:
                sentences.append(s)
    step = len(sentences) // count
    return [sentences[i * step] for i in range(count)]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--shared", default="../shared/data")
    parser.add_argument("--out", default="data/testdata/tokenizer_fixtures.jsonl")
    args = parser.parse_args()

    sp = sentencepiece.SentencePieceProcessor(model_file=os.path.join(args.shared, ALBERT_MODEL))
    with tempfile.TemporaryDirectory() as folder:
        # AlbertTokenizer.from_pretrained converts spiece.model (+ protobuf) into its Unigram model.
        shutil.copy(os.path.join(args.shared, ALBERT_MODEL), os.path.join(folder, "spiece.model"))
        albert = transformers.AlbertTokenizer.from_pretrained(folder)
    bert = transformers.BertTokenizer(os.path.join(args.shared, BERT_VOCAB), do_lower_case=True)
    assert albert.do_lower_case and not albert.keep_accents

    cases = [("wikitext-2", t) for t in english(args.shared, 75)]
    cases += [("cmrc2018", t) for t in chinese_sentences(
        os.path.join(args.shared, "zh-cmrc2018/cmrc2018_dev_trial_contexts.txt"), 100, 80)]
    cases += [("hongloumeng", t) for t in chinese_sentences(
        os.path.join(args.shared, "books/zh-classics/zh-hongloumeng.txt"), 100, 80)]
    cases += [("tricky", t) for t in TRICKY]

    def hf(tok, text):
        return tok(text, add_special_tokens=False, split_special_tokens=True)["input_ids"]

    backend = albert.backend_tokenizer
    words = tokenizers.pre_tokenizers.WhitespaceSplit()

    def albert_spm(text):
        normalized = backend.normalizer.normalize_str(text)
        return sp.encode(" ".join(w for w, _ in words.pre_tokenize_str(normalized)))

    def albert_google(text):
        return [sp.PieceToId(p) for p in albert_encode_pieces(sp, albert_preprocess_text(text))]

    with open(args.out, "w", encoding="utf-8") as out:
        meta = {"sentencepiece": sentencepiece.__version__, "transformers": transformers.__version__,
                "tokenizers": tokenizers.__version__, "albert_model": ALBERT_MODEL, "bert_vocab": BERT_VOCAB}
        out.write(json.dumps({"meta": meta}, ensure_ascii=False) + "\n")
        for source, text in cases:
            case = {"source": source, "text": text, "spm": sp.encode(text), "albert": hf(albert, text),
                    "bert": hf(bert, text)}
            reference = albert_spm(text)
            google = albert_google(text)
            differs = {}
            if reference != case["albert"]:
                case["albert_spm"] = reference
                differs["albert"] = WHY_HF
            if google != reference:
                case["albert_google"] = google
                differs["albert_google"] = WHY_GOOGLE
            if differs:
                case["differs"] = differs
            out.write(json.dumps(case, ensure_ascii=False, separators=(",", ":")) + "\n")
    print(f"wrote {len(cases)} cases to {args.out} ({os.path.getsize(args.out)} bytes)")

    # A valid model without [CLS], [SEP] and [MASK], which cloze must refuse.
    prefix = os.path.join(os.path.dirname(args.out), "no_special_pieces")
    sentencepiece.SentencePieceTrainer.train(
        sentence_iterator=iter(english(args.shared, 200)), model_prefix=prefix, vocab_size=150,
        model_type="unigram", pad_id=3, normalization_rule_name="identity", minloglevel=2)
    os.remove(prefix + ".vocab")
    print(f"wrote {prefix}.model ({os.path.getsize(prefix + '.model')} bytes)")


if __name__ == "__main__":
    main()
