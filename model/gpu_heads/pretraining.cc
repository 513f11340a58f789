#include "model/gpu_heads/pretraining.h"

#include <initializer_list>
#include <tuple>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "kernels/cuda/cross_entropy.h"
#include "kernels/cuda/device.h"
#include "kernels/cuda/dropout.h"
#include "kernels/cuda/gather.h"
#include "kernels/cuda/layernorm.h"
#include "kernels/cuda/gpu_model_kernels.h"
#include "model/heads/pretraining.h"

namespace cloze {
namespace {

class GpuPretrainingHead : public GpuHead {
 public:
  GpuPretrainingHead(GpuOps* ops, const ParameterLayout& encoder_layout)
      : ops_(ops), def_(ops->config(), encoder_layout) {}

  const HeadDefinition& definition() const override { return def_; }
  HeadDefinition& definition() override { return def_; }

  absl::StatusOr<Losses> Forward(const GpuHeadInputs& in) override {
    const ModelConfig& config = def_.config();
    const Batch& batch = *in.batch;
    GpuOps& ops = *ops_;
    const int64_t b = batch.batch_size, m = static_cast<int64_t>(batch.masked_positions.size());
    const int64_t e = config.embedding_size(), h = config.hidden_size(), v = config.vocab_size();
    if (absl::Status s = Resize(b, m); !s.ok()) return s;
    for (auto [device, host] : {std::pair{&masked_positions_, &batch.masked_positions},
                                std::pair{&masked_labels_, &batch.masked_labels},
                                std::pair{&sentence_labels_, &batch.sentence_labels}}) {
      if (absl::Status s = UploadTo(*device, *host, "copying the pretraining labels to the device"); !s.ok()) {
        return s;
      }
    }

    // MLM at the masked positions; the decoder is the word-embedding matrix.
    cuda::gather_rows_forward(mlm_gathered_.get(), in.hidden, masked_positions_.get(), m, h);
    if (absl::Status s = ops.Linear(mlm_pre_.get(), mlm_gathered_.get(), def_.mlm_dense_weight, def_.mlm_dense_bias,
                                    m, h, e, "MLM dense forward");
        !s.ok()) {
      return s;
    }
    ops.ActivationForward(mlm_act_.get(), mlm_pre_.get(), m * e);
    cuda::layernorm_forward(mlm_norm_.get(), mlm_mean_.get(), mlm_rstd_.get(), mlm_act_.get(),
                            ops.w(def_.mlm_norm_weight), ops.w(def_.mlm_norm_bias), m, e, config.layer_norm_eps());
    if (absl::Status s = ops.Linear(mlm_logits_.get(), mlm_norm_.get(), def_.word_embeddings, def_.mlm_output_bias,
                                    m, e, v, "MLM decoder forward");
        !s.ok()) {
      return s;
    }
    cuda::softmax_cross_entropy_forward(mlm_losses_.get(), mlm_probs_.get(), mlm_logits_.get(),
                                        masked_labels_.get(), m, v);
    gpu::row_argmax(mlm_argmax_.get(), mlm_logits_.get(), m, v);

    // Sentence: dropout on the pooled [CLS], then the two-way classifier.
    cuda::dropout_forward(pooled_dropped_.get(), in.pooled, b * h, ClassifierDropout(in.options));
    if (absl::Status s = ops.Linear(sentence_logits_.get(), pooled_dropped_.get(), def_.sentence_weight,
                                    def_.sentence_bias, b, h, 2, "sentence classifier forward");
        !s.ok()) {
      return s;
    }
    cuda::softmax_cross_entropy_forward(sentence_losses_.get(), sentence_probs_.get(), sentence_logits_.get(),
                                        sentence_labels_.get(), b, 2);
    gpu::row_argmax(sentence_argmax_.get(), sentence_logits_.get(), b, 2);

    // The per-row losses and argmaxes come back (small); the sums are formed on the host in
    // the CPU's order.
    if (absl::Status s = FromDeviceStatus(cuda::device_synchronize(), "pretraining head forward"); !s.ok()) return s;
    std::vector<float> mlm_losses(m), sentence_losses(b);
    std::vector<int32_t> mlm_argmax(m), sentence_argmax(b);
    for (absl::Status s : {mlm_losses_.Download(mlm_losses, "MLM losses"),
                           mlm_argmax_.Download(mlm_argmax, "MLM argmax"),
                           sentence_losses_.Download(sentence_losses, "sentence losses"),
                           sentence_argmax_.Download(sentence_argmax, "sentence argmax")}) {
      if (!s.ok()) return s;
    }
    Losses losses;
    losses.terms[kMlmTerm] = SummarizeTerm(mlm_losses, mlm_argmax, batch.masked_labels);
    losses.terms[kSentenceTerm] = SummarizeTerm(sentence_losses, sentence_argmax, batch.sentence_labels);
    losses.total_loss = losses.terms[kMlmTerm].mean + losses.terms[kSentenceTerm].mean;
    counts_ = def_.CountPredictions(batch);
    return losses;
  }

  absl::Status Backward(const GpuHeadInputs& in, const std::array<float, kMaxLossTerms>& scales,
                        const GpuHeadGradients& out) override {
    const ModelConfig& config = def_.config();
    const Batch& batch = *in.batch;
    GpuOps& ops = *ops_;
    const int64_t b = batch.batch_size, m = static_cast<int64_t>(batch.masked_positions.size());
    const int64_t e = config.embedding_size(), h = config.hidden_size(), v = config.vocab_size();
    for (DeviceArray<float>* buffer : {&d_mlm_logits_, &d_mlm_norm_, &d_mlm_act_, &d_mlm_pre_, &d_mlm_gathered_,
                                       &d_sentence_logits_, &d_pooled_dropped_}) {
      ZeroDeviceArray(*buffer);
    }

    // Sentence: classifier, dropout, into d(pooled).
    if (counts_.terms[kSentenceTerm] > 0) {
      cuda::softmax_cross_entropy_backward(d_sentence_logits_.get(), sentence_probs_.get(), sentence_labels_.get(), b,
                                           2, scales[kSentenceTerm]);
      if (absl::Status s = ops.LinearBackward(d_pooled_dropped_.get(), def_.sentence_weight, def_.sentence_bias,
                                              d_sentence_logits_.get(), pooled_dropped_.get(), b, h, 2,
                                              "sentence classifier backward");
          !s.ok()) {
        return s;
      }
      cuda::dropout_backward(out.pooled, d_pooled_dropped_.get(), b * h, ClassifierDropout(in.options));
    }

    // MLM: tied decoder, layer norm, activation, dense, back to the masked rows.
    if (counts_.terms[kMlmTerm] > 0) {
      cuda::softmax_cross_entropy_backward(d_mlm_logits_.get(), mlm_probs_.get(), masked_labels_.get(), m, v,
                                           scales[kMlmTerm]);
      if (absl::Status s = ops.LinearBackward(d_mlm_norm_.get(), def_.word_embeddings, def_.mlm_output_bias,
                                              d_mlm_logits_.get(), mlm_norm_.get(), m, e, v, "MLM decoder backward");
          !s.ok()) {
        return s;
      }
      cuda::layernorm_backward(d_mlm_act_.get(), ops.g(def_.mlm_norm_weight), ops.g(def_.mlm_norm_bias),
                               d_mlm_norm_.get(), mlm_act_.get(), ops.w(def_.mlm_norm_weight), mlm_mean_.get(),
                               mlm_rstd_.get(), m, e);
      ops.ActivationBackward(d_mlm_pre_.get(), mlm_pre_.get(), d_mlm_act_.get(), m * e);
      if (absl::Status s = ops.LinearBackward(d_mlm_gathered_.get(), def_.mlm_dense_weight, def_.mlm_dense_bias,
                                              d_mlm_pre_.get(), mlm_gathered_.get(), m, h, e, "MLM dense backward");
          !s.ok()) {
        return s;
      }
      cuda::gather_rows_backward(out.hidden, d_mlm_gathered_.get(), masked_positions_.get(), m, h);
    }
    return absl::OkStatus();
  }

  absl::StatusOr<std::vector<float>> DownloadLogits(int output) const override {
    if (output == 0) return DownloadAll(mlm_logits_, "MLM logits");
    if (output == 1) return DownloadAll(sentence_logits_, "sentence logits");
    return absl::InvalidArgumentError(absl::StrCat("pretraining head: no logits output ", output, " (0 or 1)"));
  }

 private:
  cpu::DropoutSpec ClassifierDropout(const StepOptions& options) const {
    const ModelConfig& config = def_.config();
    return DropoutAt(options, config.classifier_dropout_prob(), HeadStream(config.num_hidden_layers()),
                     config.hidden_size());
  }

  absl::Status Resize(int64_t b, int64_t m) {
    const ModelConfig& config = def_.config();
    const int64_t e = config.embedding_size(), h = config.hidden_size(), v = config.vocab_size();
    for (auto [buffer, size] : std::initializer_list<std::pair<DeviceArray<float>*, int64_t>>{
             {&mlm_gathered_, m * h}, {&mlm_pre_, m * e}, {&mlm_act_, m * e}, {&mlm_norm_, m * e},
             {&mlm_mean_, m}, {&mlm_rstd_, m}, {&mlm_losses_, m}, {&mlm_logits_, m * v}, {&mlm_probs_, m * v},
             {&pooled_dropped_, b * h}, {&sentence_logits_, b * 2}, {&sentence_probs_, b * 2},
             {&sentence_losses_, b}, {&d_mlm_logits_, m * v}, {&d_mlm_norm_, m * e}, {&d_mlm_act_, m * e},
             {&d_mlm_pre_, m * e}, {&d_mlm_gathered_, m * h}, {&d_sentence_logits_, b * 2},
             {&d_pooled_dropped_, b * h}}) {
      if (absl::Status s = buffer->Resize(size, "pretraining head activations"); !s.ok()) return s;
    }
    if (absl::Status s = mlm_argmax_.Resize(m, "MLM argmax"); !s.ok()) return s;
    if (absl::Status s = sentence_argmax_.Resize(b, "sentence argmax"); !s.ok()) return s;
    for (auto [rows, c, oc] : std::initializer_list<std::tuple<int64_t, int64_t, int64_t>>{
             {m, h, e}, {m, e, v}, {b, h, 2}}) {
      if (absl::Status s = ops_->ReserveMatmul(rows, c, oc); !s.ok()) return s;
    }
    return absl::OkStatus();
  }

  GpuOps* ops_;
  PretrainingDefinition def_;
  PredictionCounts counts_;  // of the last Forward
  DeviceArray<int32_t> masked_positions_, masked_labels_, sentence_labels_;
  DeviceArray<float> mlm_gathered_, mlm_pre_, mlm_act_, mlm_mean_, mlm_rstd_, mlm_norm_;  // (M, H|E), (M)
  DeviceArray<float> mlm_logits_, mlm_probs_, mlm_losses_;                                // (M, V), (M)
  DeviceArray<float> pooled_dropped_, sentence_logits_, sentence_probs_, sentence_losses_;  // (B, H|2), (B)
  DeviceArray<int32_t> mlm_argmax_, sentence_argmax_;  // the accuracy counts' argmax rows
  DeviceArray<float> d_mlm_logits_, d_mlm_norm_, d_mlm_act_, d_mlm_pre_, d_mlm_gathered_;
  DeviceArray<float> d_sentence_logits_, d_pooled_dropped_;
};

}  // namespace

std::unique_ptr<GpuHead> MakeGpuPretrainingHead(GpuOps* ops, const ParameterLayout& encoder_layout) {
  return std::make_unique<GpuPretrainingHead>(ops, encoder_layout);
}

}  // namespace cloze
