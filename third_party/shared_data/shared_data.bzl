"""@shared_data: the corpora and vocabularies that tests and benchmarks read, outside the repo.

They are too large to commit, and every checkout (and CI) has them in `shared/data` beside the
repository, i.e. `<workspace>/../shared/data`; `CLOZE_SHARED_DATA=/some/folder` overrides that.
Each file listed below is symlinked into this repository, so a target names it as a data
dependency (`@shared_data//:vocab`) and finds it at `$TEST_SRCDIR/shared_data/<relative path>`.
Bazel then tracks the files like any other input.

A file that is missing is left out rather than failing the build, so `bazel build //...` works
anywhere; `shared_data/SOURCE` records the folder looked in, and the tests that need a file
fail naming it (data/testing/shared_data.h).
"""

# filegroup name -> files relative to shared/data
_FILES = {
    "vocab": [
        "vocab/albert-base-v2-spiece.model",
        "vocab/bert-base-uncased-vocab.txt",
    ],
    "wikitext2_test": ["wikitext-2-raw/wiki.test.raw"],
    "wikitext2_tokenized": [
        "wikitext-2/valid.txt",
        "wikitext-2/test.txt",
    ],
    # Gutenberg books as one tar (tests unpack it) and the Chinese novels.
    "books": [
        "books/en-gutenberg.tar.xz",
        "books/zh-classics/zh-hongloumeng.txt",
        "books/zh-classics/zh-sanguoyanyi.txt",
        "books/zh-classics/zh-xiyouji.txt",
    ],
    "zh_cmrc2018": ["zh-cmrc2018/cmrc2018_dev_trial_contexts.txt"],
    # Fine-tuning tasks (tasks/): the GLUE tasks present, with their unlabelled test splits.
    "glue": [
        "glue/%s/%s.tsv" % (task, split)
        for task in ["CoLA", "SST-2", "MRPC", "STS-B", "RTE"]
        for split in ["train", "dev", "test"]
    ],
    "ud_english_ewt": [
        "ud-english-ewt/en_ewt-ud-train.conllu.xz",
        "ud-english-ewt/en_ewt-ud-dev.conllu",
        "ud-english-ewt/en_ewt-ud-test.conllu",
    ],
    "squad_v1_dev": ["squad-v1.1/dev-v1.1.json.xz"],
}

def _shared_data_impl(ctx):
    root = ctx.os.environ.get("CLOZE_SHARED_DATA", "")
    if not root:
        root = str(ctx.path(Label("@//:WORKSPACE")).dirname.dirname) + "/shared/data"
    build = ['package(default_visibility = ["//visibility:public"])', ""]
    build.append('exports_files(["SOURCE"])')
    for name, files in _FILES.items():
        present = []
        for f in files:
            if ctx.path(root + "/" + f).exists:
                ctx.symlink(root + "/" + f, f)
                present.append(f)
        build.append('filegroup(name = "%s", srcs = %s + ["SOURCE"])' % (name, repr(present)))
    ctx.file("SOURCE", root + "\n")
    ctx.file("WORKSPACE", 'workspace(name = "%s")\n' % ctx.name)
    ctx.file("BUILD", "\n".join(build) + "\n")

shared_data = repository_rule(
    implementation = _shared_data_impl,
    environ = ["CLOZE_SHARED_DATA"],
    local = True,
)
