#include "data/dynamic_masking.h"

#include "util/random.h"

namespace cloze::data {

// Distinguishes read-time keys from the pipeline's (seed, block, pass, document) keys.
constexpr uint64_t kReadTimeDomain = 0x6D61736B2D726561ull;  // "mask-rea"

void MaskDynamically(Example* example, const VocabInfo& vocab, const MaskingOptions& options, uint64_t seed,
                     int64_t epoch, int64_t index) {
  util::Rng rng(util::MixKey(seed, kReadTimeDomain, static_cast<uint64_t>(epoch), static_cast<uint64_t>(index)));
  MaskExample(example, vocab, options, rng);
}

}  // namespace cloze::data
