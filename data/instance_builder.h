// Pretraining examples from tokenized documents, the ALBERT way
// (create_instances_from_document in google-research/albert's create_pretraining_data.py).
//
// Sentences are packed into chunks up to a target length (max_seq_length − 3, or with
// p = short_seq_prob a random length in [2, max]), drawn for each chunk: ALBERT draws it
// once per document, which was harmless for Wikipedia articles but with a whole book as
// one document makes every example of one book in ten short. Each chunk is split at a random
// sentence boundary into A and B. SENTENCE_ORDER: with p = 0.5 A and B are swapped
// (label 1). NEXT_SENTENCE: with p = 0.5 B is taken from a random other document
// (label 1) and the unused sentences are returned to the stream. As in ALBERT, a chunk of
// a single sentence always takes B from a random document (label 1), in both modes.
// The pair is truncated to fit, one token at a time from the longer side, from its
// front or back at random.
//
// Random documents come from the caller's `documents` (a block of consecutive documents
// of the corpus), not the whole corpus: that keeps memory bounded and the result
// independent of threads. Blocks of hundreds of documents make the difference negligible.
#ifndef CLOZE_DATA_INSTANCE_BUILDER_H_
#define CLOZE_DATA_INSTANCE_BUILDER_H_

#include <cstdint>
#include <vector>

#include "util/random.h"
#include "data/vocab_info.h"
#include "proto/data.pb.h"

namespace cloze::data {

// A document as token ids, sentence by sentence (no sentence is empty).
using TokenizedDocument = std::vector<std::vector<int32_t>>;

struct InstanceOptions {
  int max_seq_length = 512;
  float short_seq_prob = 0.1f;
  DataConfig::SentenceTask sentence_task = DataConfig::SENTENCE_ORDER;
};

// Appends the examples of documents[index] to *out: input_ids, segment_b_start and
// sentence_label set, no masking. Requires max_seq_length ≥ 5. Returns how many of them
// came from a chunk of one sentence (label 1 whatever the task: too many of those, from
// documents of one or two sentences, unbalance the sentence task).
int BuildInstances(const std::vector<TokenizedDocument>& documents, size_t index, const InstanceOptions& options,
                   const VocabInfo& vocab, util::Rng& rng, std::vector<Example>* out);

}  // namespace cloze::data

#endif  // CLOZE_DATA_INSTANCE_BUILDER_H_
