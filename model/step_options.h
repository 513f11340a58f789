// What a forward pass is asked to do (training or not, which dropout masks), and where each
// dropout site draws its mask, shared by the encoder and the heads on both backends so a
// step's masks are the same bit for bit everywhere.
#ifndef CLOZE_MODEL_STEP_OPTIONS_H_
#define CLOZE_MODEL_STEP_OPTIONS_H_

#include <cstdint>

#include "kernels/cpu/dropout.h"

namespace cloze {

struct StepOptions {
  bool training = false;      // dropout on
  uint64_t dropout_seed = 0;  // distinct per step
  // Index of the batch's first example among the step's examples (all micro-batches, all
  // workers). Dropout masks are keyed by it, so a step draws the same masks however its
  // examples are split over micro-batches and workers.
  int64_t first_example = 0;
};

// Dropout stream numbers: one per site, so every mask in a step is distinct. The encoder's
// sites come first; a head's sites start at HeadStream(layers).
inline constexpr uint64_t kEmbeddingStream = 0;
inline uint64_t AttentionProbsStream(int layer) { return 1 + 3 * static_cast<uint64_t>(layer); }
inline uint64_t AttentionOutputStream(int layer) { return 2 + 3 * static_cast<uint64_t>(layer); }
inline uint64_t FfnOutputStream(int layer) { return 3 + 3 * static_cast<uint64_t>(layer); }
inline uint64_t HeadStream(int layers) { return 1 + 3 * static_cast<uint64_t>(layers); }

// The mask of dropout site `stream` at probability p (0 unless options.training), for a
// tensor of elements_per_example elements per example, offset by the batch's first example.
inline cpu::DropoutSpec DropoutAt(const StepOptions& options, float p, uint64_t stream,
                                  int64_t elements_per_example) {
  return {.p = options.training ? p : 0.0f,
          .seed = options.dropout_seed,
          .stream = stream,
          .first_index = static_cast<uint64_t>(options.first_example * elements_per_example)};
}

}  // namespace cloze

#endif  // CLOZE_MODEL_STEP_OPTIONS_H_
