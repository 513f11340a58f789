#!/usr/bin/env python3
"""Writes the small fixture files of tasks/ tests (run from this folder; output is checked in).

GLUE's QQP, MNLI, QNLI and WNLI files are too large for shared/data, so these fixtures
follow their official layouts (the GLUE distribution as download_glue_data.py unpacks it;
the column names and positions the GLUE baseline, Hugging Face's processors and its
datasets `glue` script read). Byte-level quirks are spelled out here, not left to an
editor: a UTF-8 BOM before a header, CRLF line ends, `"` inside unquoted fields.
Rows are short, made up in the style of each task.
"""
import json
import lzma
import os

BOM = "\ufeff"


def write(path, lines, bom=False, crlf=False, final_newline=True):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    end = "\r\n" if crlf else "\n"
    text = end.join(lines) + (end if final_newline else "")
    with open(path, "w", encoding="utf-8", newline="") as f:
        f.write((BOM if bom else "") + text)


def open_new(path, mode):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    return open(path, mode, **({} if "b" in mode else {"encoding": "utf-8", "newline": ""}))


def tsv(*fields):
    return "\t".join(fields)


# QQP: id qid1 qid2 question1 question2 is_duplicate; test: id question1 question2.
# train has a BOM and CRLF ends; a question holds unbalanced and paired double quotes.
QQP_HEADER = tsv("id", "qid1", "qid2", "question1", "question2", "is_duplicate")
write("glue/QQP/train.tsv", [
    QQP_HEADER,
    tsv("133273", "213221", "213222", "How is the life of a math student? Could you describe your own experiences?",
        "Which level of prepration is enough for the exam jlpt5?", "0"),
    tsv("402555", "536040", "536041", 'What does "quid pro quo" mean?', 'What is the meaning of "quid pro quo"?', "1"),
    tsv("360472", "364011", "490273", 'Why is 6" the "standard?', "What is the standard size?", "0"),
], bom=True, crlf=True)
write("glue/QQP/dev.tsv", [
    QQP_HEADER,
    tsv("201359", "303345", "303346", "Why are African-Americans so beautiful?", "Why are hispanics so beautiful?", "0"),
    tsv("263843", "69383", "380476", "I want to pursue PhD in Computer Science?", "I handle social media for a non-profit?", "1"),
])
write("glue/QQP/test.tsv", [
    tsv("id", "question1", "question2"),
    tsv("0", "How does the Surface Pro himself 4 compare with iPad Pro?", "Why did Microsoft choose core m3?"),
    tsv("1", 'Should I have a hair transplant at age 24? How much would it cost?', 'How much cost does hair transplant require?'),
])

# MNLI: train has 12 columns (label1, gold_label), dev 16 (label1..label5, gold_label);
# test 10 (no labels). sentence1/sentence2 are columns 8/9, gold_label the last.
MNLI_PREFIX = ["index", "promptID", "pairID", "genre", "sentence1_binary_parse",
               "sentence2_binary_parse", "sentence1_parse", "sentence2_parse", "sentence1", "sentence2"]


def mnli_row(index, genre, s1, s2, labels):
    return tsv(str(index), "31193", f"31193{index}", genre, "( ( x ) )", "( ( y ) )", "(ROOT (S x))",
               "(ROOT (S y))", s1, s2, *labels)


write("glue/MNLI/train.tsv", [
    tsv(*MNLI_PREFIX, "label1", "gold_label"),
    mnli_row(0, "government", "Conceptually cream skimming has two basic dimensions - product and geography.",
             "Product and geography are what make cream skimming work. ", ["neutral", "neutral"]),
    mnli_row(1, "telephone", "you know during the season and i guess at at your level uh you lose them",
             "You lose the things to the following level if the people recall.", ["entailment", "entailment"]),
    mnli_row(2, "fiction", 'He said, "Come on."', "He stayed silent.", ["contradiction", "contradiction"]),
])
DEV_HEADER = tsv(*MNLI_PREFIX, "label1", "label2", "label3", "label4", "label5", "gold_label")
write("glue/MNLI/dev_matched.tsv", [
    DEV_HEADER,
    mnli_row(0, "telephone", "The new rights are nice enough", "Everyone really likes the newest benefits ",
             ["neutral", "entailment", "neutral", "neutral", "neutral", "neutral"]),
    mnli_row(1, "government", "This site includes a list of all award winners.",
             "The Government Executive articles housed on the website are not able to be searched .",
             ["contradiction"] * 6),
], crlf=True)
write("glue/MNLI/dev_mismatched.tsv", [
    DEV_HEADER,
    mnli_row(0, "letters", "Your contribution helped make it possible for us to provide our students with a quality education.",
             "Your contributions were of no help with our students' education.", ["contradiction"] * 6),
])
for split in ["test_matched", "test_mismatched"]:
    write(f"glue/MNLI/{split}.tsv", [
        tsv(*MNLI_PREFIX),
        tsv("0", "31493", "31493", "travel", "( x )", "( y )", "(ROOT x)", "(ROOT y)",
            "Hierbas, ans seco, ans dulce, and frigola are just a few names worth keeping a look-out for.",
            "Hierbas is a name worth looking out for."),
    ])

# QNLI: index question sentence label (entailment / not_entailment); test without label.
write("glue/QNLI/train.tsv", [
    tsv("index", "question", "sentence", "label"),
    tsv("0", "When did the third Digimon series begin?",
        "Unlike the two seasons before it and most of the seasons that followed, Digimon Tamers takes a darker approach.",
        "not_entailment"),
    tsv("1", "Which missile batteries often have individual launchers several kilometres from one another?",
        "When MANPADS is operated by specialists, batteries may have several dozen teams deploying separately.",
        "not_entailment"),
    tsv("2", 'What is the name of the "Hobbit" author?', 'J. R. R. Tolkien wrote "The Hobbit".', "entailment"),
], bom=True)
write("glue/QNLI/dev.tsv", [
    tsv("index", "question", "sentence", "label"),
    tsv("0", "What came into force after the new constitution was herald?",
        "As of that day, the new constitution heralding the Second Republic came into force.", "entailment"),
])
write("glue/QNLI/test.tsv", [
    tsv("index", "question", "sentence"),
    tsv("0", "What organization is devoted to Jihad against Israel?",
        "For some decades prior to the First Palestine Intifada in 1987, the Muslim Brotherhood took a quiescent stance."),
], crlf=True, final_newline=False)

# WNLI: index sentence1 sentence2 label (0/1); test without label.
write("glue/WNLI/train.tsv", [
    tsv("index", "sentence1", "sentence2", "label"),
    tsv("0", "I stuck a pin through a carrot. When I pulled the pin out, it had a hole.", "The carrot had a hole.", "1"),
    tsv("1", "John couldn't see the stage with Billy in front of him because he is so short.", "John is so short.", "1"),
    tsv("2", "The police arrested all of the gang members. They were trying to stop the drug trade.",
        "The gang members were trying to stop the drug trade.", "0"),
])
write("glue/WNLI/dev.tsv", [
    tsv("index", "sentence1", "sentence2", "label"),
    tsv("0", "The drain is clogged with hair. It has to be cleaned.", "The hair has to be cleaned.", "0"),
], crlf=True)
write("glue/WNLI/test.tsv", [
    tsv("index", "sentence1", "sentence2"),
    tsv("0", "Maude and Dora had seen the trains rushing across the prairie.", "Horses ran away when Maude and Dora came in sight."),
])

# Generic tasks: a CLUE-style JSON Lines pair task (AFQMC: string labels; TNEWS mixes in a
# number) and a TSV single-sentence task with its own column names.
with open_new("generic/afqmc/train.json", "w") as f:
    for s1, s2, label in [("蚂蚁借呗等额还款可以换成先息后本吗", "借呗有先息到期还本吗", "0"),
                          ("蚂蚁花呗说我违约一次", "蚂蚁花呗违约行为是什么", "0"),
                          ("帮我看一下本月花呗账单有没有结清", "下月花呗账单", "1"),
                          ("花呗\"分期\"怎么还", "花呗分期怎么还款", 1)]:
        f.write(json.dumps({"sentence1": s1, "sentence2": s2, "label": label}, ensure_ascii=False) + "\n")
with open_new("generic/afqmc/test.json", "w") as f:
    f.write(json.dumps({"id": 0, "sentence1": "花呗怎么还款", "sentence2": "花呗如何还"}, ensure_ascii=False) + "\r\n")
    f.write("\r\n")
    f.write(json.dumps({"id": 1, "sentence1": "借呗额度", "sentence2": "借呗能借多少"}, ensure_ascii=False) + "\r\n")
write("generic/reviews/train.tsv", [
    tsv("review", "stars", "source"),
    tsv('"great" value', "10", "web"),
    tsv("fine", "2", "web"),
    tsv("bad", "9", "app"),
    tsv("ok", "2", "app"),
], bom=True, crlf=True)

# .xz: two concatenated streams (as `xz -c a >f; xz -c b >>f` makes).
with open_new("xz/two_streams.txt.xz", "wb") as f:
    f.write(lzma.compress("first stream\n".encode(), format=lzma.FORMAT_XZ))
    f.write(lzma.compress("second stream, ünïcode\n".encode(), format=lzma.FORMAT_XZ))
