"""The independent reference: Hugging Face transformers models built from cloze's
ModelConfig text protos. Used by tests/golden/generate_golden.py (parity fixtures) and
bench/torch_step.py (the PyTorch side of the CPU benchmark).
"""

import re

import transformers


def read_textproto(path):
    """The scalar fields of a ModelConfig text proto, as a dict (BERT's implied fields
    filled in as model/model_config.cc's NormalizeModelConfig does)."""
    config = {}
    for line in open(path, encoding="utf-8"):
        line = line.split("#", 1)[0].strip()
        match = re.match(r"(\w+):\s*(.+)$", line)
        if not match:
            continue
        key, value = match.groups()
        if value.startswith('"'):
            config[key] = value.strip('"')
        elif re.fullmatch(r"-?\d+", value):
            config[key] = int(value)
        else:
            config[key] = float(value)
    config.setdefault("embedding_size", config["hidden_size"])
    config.setdefault("num_hidden_groups", config["num_hidden_layers"])
    config.setdefault("inner_group_num", 1)
    return config


# The Hugging Face class of each cloze model type and head. The task heads are named as
# the fine-tuning heads of trainer/model.h (their parameters keep HF's names).
HEAD_CLASSES = {
    "albert": {
        "pretraining": "AlbertForPreTraining",
        "sequence_classification": "AlbertForSequenceClassification",
        "token_classification": "AlbertForTokenClassification",
        "question_answering": "AlbertForQuestionAnswering",
    },
    "bert": {
        "pretraining": "BertForPreTraining",
        "sequence_classification": "BertForSequenceClassification",
        "token_classification": "BertForTokenClassification",
        "question_answering": "BertForQuestionAnswering",
    },
}


def build_hf_config(config, training, attn_implementation="eager", **head_options):
    """The transformers AlbertConfig or BertConfig of `config`, with its dropout
    probabilities when training (cloze applies the same ones with StepOptions.training),
    else none. head_options (num_labels, problem_type, ...) pass through to it.
    attn_implementation: "eager" (the reference's: the golden fixtures use it), "sdpa", ...,
    or "default" for what transformers picks."""
    keep = lambda key: config.get(key, 0.0) if training else 0.0
    common = dict(
        vocab_size=config["vocab_size"],
        hidden_size=config["hidden_size"],
        num_hidden_layers=config["num_hidden_layers"],
        num_attention_heads=config["num_attention_heads"],
        intermediate_size=config["intermediate_size"],
        hidden_act=config["hidden_act"],
        hidden_dropout_prob=keep("hidden_dropout_prob"),
        attention_probs_dropout_prob=keep("attention_probs_dropout_prob"),
        max_position_embeddings=config["max_position_embeddings"],
        type_vocab_size=config["type_vocab_size"],
        layer_norm_eps=config["layer_norm_eps"],
        initializer_range=config["initializer_range"],
        **head_options,
    )
    if attn_implementation != "default":
        common["attn_implementation"] = attn_implementation
    if config["model_type"] == "albert":
        return transformers.AlbertConfig(
            embedding_size=config["embedding_size"],
            num_hidden_groups=config["num_hidden_groups"],
            inner_group_num=config["inner_group_num"],
            classifier_dropout_prob=keep("classifier_dropout_prob"),
            **common,
        )
    # BERT's classifier dropout falls back to hidden_dropout_prob (HF's classifier_dropout=None).
    return transformers.BertConfig(**common)


def build_model(config, training, attn_implementation="eager", head="pretraining",
                **head_options):
    """The Hugging Face model of `config` with `head` (a key of HEAD_CLASSES[model_type]);
    training, attn_implementation and head_options as build_hf_config's."""
    hf_class = getattr(transformers, HEAD_CLASSES[config["model_type"]][head])
    return hf_class(build_hf_config(config, training, attn_implementation, **head_options))
