#include "trainer/train_config.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "model/head_spec.h"
#include "model/model_config.h"
#include "kernels/cpu/optimizer.h"
#include "trainer/schedule.h"
#include "util/text_proto.h"

namespace cloze {
namespace {

absl::Status FieldError(const std::string& field, const std::string& message) {
  return absl::InvalidArgumentError(absl::StrCat("TrainConfig.", field, ": ", message));
}

// The fine-tuning block: what the task and its data are, where parameters start.
absl::Status ValidateFinetuneConfig(const TrainConfig& c) {
  const FinetuneConfig& f = c.finetune();
  if (f.task().empty()) return FieldError("finetune.task", "missing (a GLUE task name or \"generic\")");
  if (f.data_dir().empty()) return FieldError("finetune.data_dir", "missing (the task's folder)");
  if (f.tokenizer().empty()) return FieldError("finetune.tokenizer", "missing (e.g. spm-albert:PATH/spiece.model)");
  if (f.init().empty()) return FieldError("finetune.init", "missing (\"scratch\", a checkpoint or a Hugging Face folder)");
  if (f.num_labels() < 1) return FieldError("finetune.num_labels", absl::StrCat("must be positive, got ", f.num_labels()));
  if (!f.head().empty()) {
    absl::StatusOr<HeadKind> head = ParseHeadKind(f.head());
    if (!head.ok()) return FieldError("finetune.head", std::string(head.status().message()));
    if (*head == HeadKind::kPretraining) return FieldError("finetune.head", "a fine-tuning run needs a task head");
  }
  if (f.max_seq_length() != c.seq_len()) {
    return FieldError("finetune.max_seq_length", absl::StrCat(f.max_seq_length(), " differs from seq_len = ", c.seq_len()));
  }
  return absl::OkStatus();
}

}  // namespace

TrainConfig DefaultTrainConfig() {
  TrainConfig c;
  c.set_batch_size(8);
  c.set_accumulation_steps(1);
  c.set_seq_len(128);
  c.set_max_predictions_per_seq(20);
  c.set_total_steps(125000);
  OptimizerConfig* o = c.mutable_optimizer();
  o->set_kind(OptimizerConfig::LAMB);
  o->set_learning_rate(0.00176f);
  o->set_beta1(0.9f);
  o->set_beta2(0.999f);
  o->set_epsilon(1e-6f);
  o->set_weight_decay(0.01f);
  o->set_max_grad_norm(1.0f);
  ScheduleConfig* s = c.mutable_schedule();
  s->set_warmup_steps(3125);
  s->set_power(1.0f);
  s->set_end_learning_rate(0.0f);
  GuardConfig* g = c.mutable_guard();
  g->set_spike_factor(3.0f);
  g->set_spike_warmup_steps(20);
  g->set_max_consecutive_skips(5);
  g->set_rollback_lr_factor(0.5f);
  CheckpointConfig* k = c.mutable_checkpoint();
  k->set_every_steps(1000);
  k->set_keep_last(3);
  k->set_keep_every(10000);
  c.set_eval_every_steps(0);
  c.set_eval_batches(10);
  c.set_seed(12345);
  c.set_log_every_steps(10);
  return c;
}

namespace {

// What the prober needs before it is started; the probe names are checked by the prober
// itself (exit 2 in logs/probe.log).
absl::Status ValidateProbeConfig(const ProbeConfig& p) {
  if (p.tokenizer().empty()) return FieldError("probe.tokenizer", "missing (the run's tokenizer, e.g. \"spm-albert:PATH\")");
  const bool all = p.probes().empty();  // the default probes: all but fill_zh
  auto listed = [&p](const std::string& probe) {
    return std::find(p.probes().begin(), p.probes().end(), probe) != p.probes().end();
  };
  const bool sst2 = all || listed("sst2");
  const bool ud = all || listed("fill") || listed("reconstruction") || listed("upos") || listed("deprel");
  if (ud && p.ud_dir().empty()) return FieldError("probe.ud_dir", "missing (UD English-EWT, for the probes but sst2 and fill_zh)");
  if (sst2 && p.glue_dir().empty()) return FieldError("probe.glue_dir", "missing (GLUE, for sst2; or list probes without it)");
  if (listed("fill_zh") && p.zh_text().empty()) return FieldError("probe.zh_text", "missing (Chinese text, for fill_zh)");
  if (p.every_checkpoints() < 0 || p.max_sentences() < 0 || p.max_train_sentences() < 0 || p.max_seq_length() < 0 ||
      p.batch_size() < 0 || !(p.poll_seconds() >= 0) || p.threads() < 0 || p.final_wait_seconds() < 0 ||
      p.zh_skip_lines() < 0) {
    return FieldError("probe", "numbers must not be negative");
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status ValidateTrainConfig(const TrainConfig& c) {
  if (!c.has_model()) return FieldError("model", "missing (a ModelConfig, as in configs/*.textproto)");
  if (absl::Status s = ValidateModelConfig(c.model()); !s.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("TrainConfig.model: ", s.message()));
  }
  const bool finetune = c.has_finetune();
  if (finetune) {
    if (absl::Status s = ValidateFinetuneConfig(c); !s.ok()) return s;
    if (!c.init_from().empty()) {
      return FieldError("init_from", "is for pretraining; a fine-tuning run starts from finetune.init");
    }
  } else if (c.dataset().empty()) {
    return FieldError("dataset", "missing (a folder made by `cloze prepare`)");
  }
  if (!TrainConfig::Precision_IsValid(c.precision())) {
    return FieldError("precision", absl::StrCat("must be FP32 or BF16, got ", c.precision()));
  }
  if (c.batch_size() < 1) return FieldError("batch_size", absl::StrCat("must be positive, got ", c.batch_size()));
  if (c.accumulation_steps() < 1) {
    return FieldError("accumulation_steps", absl::StrCat("must be positive, got ", c.accumulation_steps()));
  }
  if (c.seq_len() < 8 || c.seq_len() > c.model().max_position_embeddings()) {
    return FieldError("seq_len", absl::StrFormat("must be in [8, model.max_position_embeddings = %d], got %d",
                                                 c.model().max_position_embeddings(), c.seq_len()));
  }
  if (!finetune && (c.max_predictions_per_seq() < 1 || c.max_predictions_per_seq() > c.seq_len())) {
    return FieldError("max_predictions_per_seq",
                      absl::StrCat("must be in [1, seq_len], got ", c.max_predictions_per_seq()));
  }
  if (c.total_steps() < 1) return FieldError("total_steps", absl::StrCat("must be positive, got ", c.total_steps()));
  const OptimizerConfig& o = c.optimizer();
  if (!(o.learning_rate() > 0)) return FieldError("optimizer.learning_rate", absl::StrCat("must be positive, got ", o.learning_rate()));
  if (!(o.beta1() >= 0 && o.beta1() < 1)) return FieldError("optimizer.beta1", absl::StrCat("must be in [0, 1), got ", o.beta1()));
  if (!(o.beta2() >= 0 && o.beta2() < 1)) return FieldError("optimizer.beta2", absl::StrCat("must be in [0, 1), got ", o.beta2()));
  if (!(o.epsilon() > 0)) return FieldError("optimizer.epsilon", absl::StrCat("must be positive, got ", o.epsilon()));
  if (!(o.weight_decay() >= 0)) return FieldError("optimizer.weight_decay", absl::StrCat("must not be negative, got ", o.weight_decay()));
  if (!(o.max_grad_norm() >= 0)) return FieldError("optimizer.max_grad_norm", absl::StrCat("must not be negative, got ", o.max_grad_norm()));
  if (absl::Status s = ValidateOptimizerConfig(o); !s.ok()) return FieldError("optimizer", std::string(s.message()));
  if (absl::Status s = ValidateSchedule(c.schedule(), c.total_steps()); !s.ok()) {
    return FieldError("schedule", std::string(s.message()));
  }
  const GuardConfig& g = c.guard();
  if (!(g.spike_factor() == 0 || g.spike_factor() > 1)) {
    return FieldError("guard.spike_factor", absl::StrCat("must be 0 (off) or above 1, got ", g.spike_factor()));
  }
  if (g.max_consecutive_skips() < 1) {
    return FieldError("guard.max_consecutive_skips", absl::StrCat("must be positive, got ", g.max_consecutive_skips()));
  }
  if (!(g.rollback_lr_factor() > 0 && g.rollback_lr_factor() <= 1)) {
    return FieldError("guard.rollback_lr_factor", absl::StrCat("must be in (0, 1], got ", g.rollback_lr_factor()));
  }
  const CheckpointConfig& k = c.checkpoint();
  if (k.every_steps() < 0) return FieldError("checkpoint.every_steps", "must not be negative");
  if (k.keep_last() < 1) return FieldError("checkpoint.keep_last", absl::StrCat("must be positive, got ", k.keep_last()));
  if (k.keep_every() < 0) return FieldError("checkpoint.keep_every", "must not be negative");
  if (c.eval_every_steps() < 0) return FieldError("eval_every_steps", "must not be negative");
  if (!finetune && c.eval_every_steps() > 0 && c.eval_dataset().empty()) return FieldError("eval_dataset", "missing while eval_every_steps > 0");
  if (!finetune && c.eval_every_steps() > 0 && c.eval_batches() < 1) return FieldError("eval_batches", "must be positive");
  if (c.log_every_steps() < 1) return FieldError("log_every_steps", absl::StrCat("must be positive, got ", c.log_every_steps()));
  if (c.has_probe()) {
    if (absl::Status s = ValidateProbeConfig(c.probe()); !s.ok()) return s;
  }
  const DistributedConfig& d = c.distributed();
  if (d.workers() < 0 || d.workers() > 4096) {
    return FieldError("distributed.workers", absl::StrCat("must be in [0, 4096], got ", d.workers()));
  }
  if (d.parameter_servers() < 0 || d.parameter_servers() > 1024) {
    return FieldError("distributed.parameter_servers", absl::StrCat("must be in [0, 1024], got ", d.parameter_servers()));
  }
  if (d.max_staleness() < 0) return FieldError("distributed.max_staleness", "must not be negative");
  if (d.consistency() == DistributedConfig::BOUNDED_STALENESS && d.parameter_servers() == 0) {
    return FieldError("distributed.consistency", "BOUNDED_STALENESS needs parameter_servers > 0");
  }
  if (d.bucket_bytes() < 0) return FieldError("distributed.bucket_bytes", "must not be negative");
  if (!(d.heartbeat_interval_seconds() >= 0) || !(d.failure_timeout_seconds() >= 0)) {
    return FieldError("distributed", "heartbeat_interval_seconds and failure_timeout_seconds must not be negative");
  }
  if (d.failure_timeout_seconds() > 0 && d.failure_timeout_seconds() <= d.heartbeat_interval_seconds()) {
    return FieldError("distributed.failure_timeout_seconds", "must exceed heartbeat_interval_seconds");
  }
  return absl::OkStatus();
}

std::string TrainConfigText(const TrainConfig& config) {
  return util::TextProtoOverDefaults(config, DefaultTrainConfig());
}

absl::StatusOr<TrainConfig> LoadTrainConfig(const std::string& path) {
  TrainConfig config = DefaultTrainConfig();
  if (absl::Status s = util::MergeTextProtoFile(path, &config); !s.ok()) return s;
  if (config.has_model()) NormalizeModelConfig(*config.mutable_model());
  if (absl::Status s = ValidateTrainConfig(config); !s.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": ", s.message()));
  }
  return config;
}

}  // namespace cloze
