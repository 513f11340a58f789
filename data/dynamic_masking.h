// Masking at read time, for datasets prepared with DataConfig.dynamic_masking: every
// epoch sees fresh masks, as RoBERTa's dynamic masking, at no storage cost.
#ifndef CLOZE_DATA_DYNAMIC_MASKING_H_
#define CLOZE_DATA_DYNAMIC_MASKING_H_

#include <cstdint>

#include "data/masking.h"
#include "data/vocab_info.h"
#include "proto/data.pb.h"

namespace cloze::data {

// Masks `example` (stored unmasked) as MaskExample does, with randomness that is a pure
// function of (seed, epoch, index): the same example in the same epoch gets the same
// masks on any rank, machine or resume, and another epoch gets others. `index` is the
// example's global index in the dataset.
void MaskDynamically(Example* example, const VocabInfo& vocab, const MaskingOptions& options, uint64_t seed,
                     int64_t epoch, int64_t index);

}  // namespace cloze::data

#endif  // CLOZE_DATA_DYNAMIC_MASKING_H_
