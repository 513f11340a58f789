#include "probe/probe_suite.h"

#include <algorithm>
#include <optional>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "probe/frozen_features.h"
#include "probe/linear_probes.h"
#include "tasks/conllu.h"
#include "tasks/glue_tasks.h"

namespace cloze::probe {
namespace {

bool Wants(const std::vector<std::string>& probes, const std::string& name) {
  return std::find(probes.begin(), probes.end(), name) != probes.end();
}

// At most `limit` of `items` (all when limit ≤ 0), at even intervals, in order.
template <typename T>
std::vector<T> EvenlySpaced(std::vector<T> items, int limit) {
  if (limit <= 0 || static_cast<size_t>(limit) >= items.size()) return items;
  std::vector<T> out;
  for (int i = 0; i < limit; ++i) out.push_back(std::move(items[i * items.size() / limit]));
  return out;
}

absl::StatusOr<ProbeData::Treebank> ReadTreebank(const ProbeSuiteOptions& options, const std::string& split,
                                                 int limit, const data::Tokenizer& tokenizer,
                                                 const std::function<void(const std::string&)>& report) {
  absl::StatusOr<std::string> path = tasks::FindTreebankFile(options.ud_dir, split);
  if (!path.ok()) return path.status();
  tasks::ReadStats stats;
  absl::StatusOr<std::vector<tasks::TaggedSentence>> all =
      tasks::ReadConllu(*path, tasks::PosTagSet::kUpos, options.read, &stats);
  if (!all.ok()) return all.status();
  ProbeData::Treebank treebank{.sentences = EvenlySpaced(*std::move(all), limit)};
  absl::StatusOr<std::vector<tasks::TaggingFeature>> features =
      tasks::TaggingFeatures(treebank.sentences, tasks::UniversalPosTags(), tokenizer, options.max_seq_length);
  if (!features.ok()) return absl::Status(features.status().code(), absl::StrCat(*path, ": ", features.status().message()));
  treebank.features = *std::move(features);
  report(absl::StrCat(*path, ": ", treebank.sentences.size(), " of ", stats.examples, " sentences",
                      stats.skipped > 0 ? absl::StrCat(", ", stats.skipped, " bad lines skipped (first: ",
                                                       stats.first_skipped, ")")
                                        : ""));
  return treebank;
}

absl::StatusOr<std::vector<tasks::SequenceFeature>> ReadSst2(const ProbeSuiteOptions& options, const std::string& split,
                                                             int limit, const data::Tokenizer& tokenizer,
                                                             const std::function<void(const std::string&)>& report) {
  tasks::ReadStats stats;
  const std::string dir = absl::StrCat(options.glue_dir, "/SST-2");
  absl::StatusOr<std::vector<tasks::SentenceExample>> examples =
      tasks::ReadGlueSplit(dir, "SST-2", split, options.read, &stats);
  if (!examples.ok()) return examples.status();
  std::vector<tasks::SentenceExample> kept = EvenlySpaced(*std::move(examples), limit);
  report(absl::StrCat(dir, "/", split, ".tsv: ", kept.size(), " of ", stats.examples, " sentences"));
  return tasks::SentenceFeatures(kept, tokenizer, options.max_seq_length);
}

// GLUE's SST-2 train split as the probe's train (4 of 5) and dev (every fifth) sets.
void SplitTrainDev(std::vector<tasks::SequenceFeature> all, std::vector<tasks::SequenceFeature>& train,
                   std::vector<tasks::SequenceFeature>& dev) {
  for (size_t i = 0; i < all.size(); ++i) (i % 5 == 4 ? dev : train).push_back(std::move(all[i]));
}

// Word vectors of a treebank split, computed on first use and kept for the next probe.
class WordVectorCache {
 public:
  WordVectorCache(const Model& model, const ProbeData& data, int batch_size)
      : model_(model), data_(data), batch_size_(batch_size) {}

  absl::StatusOr<const LayerVectors*> Get(const ProbeData::Treebank& treebank) {
    const int slot = &treebank == &data_.ud_train ? 0 : &treebank == &data_.ud_dev ? 1 : 2;
    if (!vectors_[slot].has_value()) {
      int64_t rows = 0;
      const std::vector<int64_t> first = FirstWordRows(treebank.sentences, &rows);
      absl::StatusOr<LayerVectors> vectors = WordVectors(model_, treebank.features, first, rows, data_.pad_id, batch_size_);
      if (!vectors.ok()) return vectors.status();
      vectors_[slot] = *std::move(vectors);
    }
    return &*vectors_[slot];
  }

 private:
  const Model& model_;
  const ProbeData& data_;
  int batch_size_;
  std::optional<LayerVectors> vectors_[3];
};

ProbeItems Sst2Items(const std::vector<tasks::SequenceFeature>& features) {
  ProbeItems items;
  for (size_t i = 0; i < features.size(); ++i) {
    if (!features[i].label.has_value()) continue;
    items.rows.push_back(static_cast<int64_t>(i));
    items.labels.push_back(*features[i].label);
  }
  return items;
}

// The records of each layer's accuracy.
std::vector<ProbeRecord> LayerRecords(const std::vector<ClassAccuracy>& by_layer, ProbeRecord common) {
  std::vector<ProbeRecord> records;
  for (size_t layer = 0; layer < by_layer.size(); ++layer) {
    common.layer = static_cast<int>(layer);
    for (ProbeRecord& r : RecordsOf(by_layer[layer], common)) records.push_back(std::move(r));
  }
  return records;
}

// zh_text's sampled sentences as fill_zh's queries, described to `report`.
absl::StatusOr<ChineseFillIn> ReadChinese(const ProbeSuiteOptions& options, const data::Tokenizer& tokenizer,
                                          const std::function<void(const std::string&)>& report) {
  tasks::ReadStats stats;
  absl::StatusOr<std::vector<std::string>> all =
      ReadChineseSentences(options.zh_text, options.zh_skip_lines, options.read, &stats);
  if (!all.ok()) return all.status();
  const std::vector<std::string> sentences = EvenlySpaced(*std::move(all), options.max_sentences);
  absl::StatusOr<ChineseFillIn> zh = ChineseFillInQueries(sentences, tokenizer, options.max_seq_length);
  if (!zh.ok()) return zh.status();
  const int64_t han = std::ranges::count_if(zh->queries, [](const FillInQuery& q) { return q.word_class != "punctuation"; });
  const std::string not_asked = absl::StrCat(zh->in_longer_pieces, " in pieces of several characters, ", zh->unknown,
                                             " unknown to the tokenizer, ", zh->cut, " cut by a window");
  if (han == 0) {
    return absl::FailedPreconditionError(
        absl::StrCat(options.zh_text, ": no Han character is a token of its own in this tokenizer (", not_asked,
                     "): fill_zh needs a tokenizer that knows Chinese characters"));
  }
  report(absl::StrCat(options.zh_text, ": ", sentences.size(), " of ", stats.examples, " sentences (from line ",
                      options.zh_skip_lines + 1, "), ", zh->queries.size(), " characters asked; not asked: ", not_asked,
                      stats.skipped > 0 ? absl::StrCat("; ", stats.skipped, " bad lines skipped (first: ",
                                                       stats.first_skipped, ")")
                                        : ""));
  return zh;
}

// One probe's records (seconds left for the caller).
absl::StatusOr<std::vector<ProbeRecord>> RunProbe(const std::string& probe, Model& model, const ProbeData& data,
                                                  const ProbeSuiteOptions& options, WordVectorCache& words,
                                                  const ProbeRecord& common) {
  if (probe == "fill_zh") {
    absl::StatusOr<ClassAccuracy> accuracy =
        RunFillIn(model, data.zh.queries, data.pad_id, data.mask_id, /*masked=*/true, options.batch_size);
    if (!accuracy.ok()) return accuracy.status();
    return RecordsOf(*accuracy, common);
  }
  if (probe == "fill" || probe == "reconstruction") {
    absl::StatusOr<ClassAccuracy> accuracy =
        RunFillIn(model, data.fill_queries, data.pad_id, data.mask_id, probe == "fill", options.batch_size);
    if (!accuracy.ok()) return accuracy.status();
    return RecordsOf(*accuracy, common);
  }
  if (probe == "upos" || probe == "deprel") {
    absl::StatusOr<const LayerVectors*> train = words.Get(data.ud_train), dev = words.Get(data.ud_dev),
                                        test = words.Get(data.ud_test);
    for (const auto* v : {&train, &dev, &test}) {
      if (!v->ok()) return v->status();
    }
    std::vector<std::string> classes;
    ProbeSplit splits[3] = {{.vectors = *train}, {.vectors = *dev}, {.vectors = *test}};
    const ProbeData::Treebank* treebanks[3] = {&data.ud_train, &data.ud_dev, &data.ud_test};
    if (probe == "upos") {
      classes = tasks::UniversalPosTags();
      for (int s = 0; s < 3; ++s) {
        absl::StatusOr<ProbeItems> items = UposItems(treebanks[s]->sentences, classes);
        if (!items.ok()) return items.status();
        splits[s].items = *std::move(items);
      }
    } else {
      classes = CollectRelations(data.ud_train.sentences);
      int64_t unseen = 0;  // dev and test relations the train sample lacks: not scored
      for (int s = 0; s < 3; ++s) splits[s].items = DeprelItems(treebanks[s]->sentences, classes, &unseen);
    }
    absl::StatusOr<std::vector<ClassAccuracy>> by_layer =
        ProbeEveryLayer(splits[0], splits[1], splits[2], classes, options.regression);
    if (!by_layer.ok()) return by_layer.status();
    return LayerRecords(*by_layer, common);
  }
  // sst2
  absl::StatusOr<LayerVectors> vectors[3] = {
      SentenceVectors(model, data.sst2_train, data.pad_id, options.batch_size),
      SentenceVectors(model, data.sst2_dev, data.pad_id, options.batch_size),
      SentenceVectors(model, data.sst2_test, data.pad_id, options.batch_size)};
  for (const auto& v : vectors) {
    if (!v.ok()) return v.status();
  }
  absl::StatusOr<tasks::TaskSpec> spec = tasks::GlueTaskSpec("SST-2");
  if (!spec.ok()) return spec.status();
  absl::StatusOr<std::vector<ClassAccuracy>> by_layer = ProbeEveryLayer(
      {.vectors = &*vectors[0], .items = Sst2Items(data.sst2_train)},
      {.vectors = &*vectors[1], .items = Sst2Items(data.sst2_dev)},
      {.vectors = &*vectors[2], .items = Sst2Items(data.sst2_test)}, spec->labels, options.regression);
  if (!by_layer.ok()) return by_layer.status();
  return LayerRecords(*by_layer, common);
}

}  // namespace

std::vector<std::string> ProbeNames() { return {"fill", "reconstruction", "upos", "deprel", "sst2", "fill_zh"}; }

std::vector<std::string> DefaultProbeNames() { return {"fill", "reconstruction", "upos", "deprel", "sst2"}; }

bool IsHeadProbe(const std::string& probe) { return probe == "fill" || probe == "reconstruction" || probe == "fill_zh"; }

absl::Status CheckProbeNames(const std::vector<std::string>& probes) {
  if (probes.empty()) return absl::InvalidArgumentError("no probe named");
  const std::vector<std::string> known = ProbeNames();
  for (const std::string& probe : probes) {
    if (!Wants(known, probe)) {
      return absl::InvalidArgumentError(
          absl::StrCat("unknown probe \"", probe, "\" (known: ", absl::StrJoin(known, ", "), ")"));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<ProbeData>> LoadProbeData(const ProbeSuiteOptions& options,
                                                         const data::Tokenizer& tokenizer,
                                                         const std::function<void(const std::string&)>& report) {
  if (absl::Status s = CheckProbeNames(options.probes); !s.ok()) return s;
  auto data = std::make_unique<ProbeData>();
  data->pad_id = tokenizer.pad_id();
  data->mask_id = tokenizer.mask_id();
  const std::vector<std::string>& p = options.probes;
  const bool fill = Wants(p, "fill") || Wants(p, "reconstruction"), linear = Wants(p, "upos") || Wants(p, "deprel");
  if (fill || linear) {
    absl::StatusOr<ProbeData::Treebank> test = ReadTreebank(options, "test", options.max_sentences, tokenizer, report);
    if (!test.ok()) return test.status();
    data->ud_test = *std::move(test);
    absl::StatusOr<std::vector<FillInQuery>> queries = FillInQueries(data->ud_test.features, data->ud_test.sentences);
    if (!queries.ok()) return queries.status();
    data->fill_queries = *std::move(queries);
  }
  if (linear) {
    absl::StatusOr<ProbeData::Treebank> train =
        ReadTreebank(options, "train", options.max_train_sentences, tokenizer, report);
    if (!train.ok()) return train.status();
    data->ud_train = *std::move(train);
    absl::StatusOr<ProbeData::Treebank> dev = ReadTreebank(options, "dev", options.max_sentences, tokenizer, report);
    if (!dev.ok()) return dev.status();
    data->ud_dev = *std::move(dev);
  }
  if (Wants(p, "sst2")) {
    absl::StatusOr<std::vector<tasks::SequenceFeature>> train =
        ReadSst2(options, "train", options.max_train_sentences, tokenizer, report);
    if (!train.ok()) return train.status();
    SplitTrainDev(*std::move(train), data->sst2_train, data->sst2_dev);
    absl::StatusOr<std::vector<tasks::SequenceFeature>> dev = ReadSst2(options, "dev", options.max_sentences, tokenizer, report);
    if (!dev.ok()) return dev.status();
    data->sst2_test = *std::move(dev);
  }
  if (Wants(p, "fill_zh")) {
    absl::StatusOr<ChineseFillIn> zh = ReadChinese(options, tokenizer, report);
    if (!zh.ok()) return zh.status();
    data->zh = *std::move(zh);
  }
  return data;
}

absl::Status RunProbes(Model& model, int64_t step, const std::string& checkpoint,
                       const std::vector<std::string>& probes, const ProbeData& data,
                       const ProbeSuiteOptions& options,
                       const std::function<absl::Status(const std::vector<ProbeRecord>&)>& commit) {
  WordVectorCache words(model, data, options.batch_size);
  for (const std::string& probe : ProbeNames()) {
    if (!Wants(probes, probe)) continue;
    const absl::Time start = absl::Now();
    const ProbeRecord common{.step = step, .checkpoint = checkpoint, .probe = probe};
    absl::StatusOr<std::vector<ProbeRecord>> records = RunProbe(probe, model, data, options, words, common);
    if (!records.ok()) {
      return absl::Status(records.status().code(), absl::StrCat("probe ", probe, ": ", records.status().message()));
    }
    const double seconds = absl::ToDoubleSeconds(absl::Now() - start);
    for (ProbeRecord& r : *records) r.seconds = seconds;
    if (absl::Status s = commit(*records); !s.ok()) return s;
  }
  return absl::OkStatus();
}

}  // namespace cloze::probe
