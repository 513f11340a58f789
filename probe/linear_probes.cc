#include "probe/linear_probes.h"

#include <algorithm>
#include <set>

#include "absl/strings/str_cat.h"

namespace cloze::probe {

std::vector<int64_t> FirstWordRows(const std::vector<tasks::TaggedSentence>& sentences, int64_t* num_rows) {
  std::vector<int64_t> first;
  int64_t total = 0;
  for (const tasks::TaggedSentence& sentence : sentences) {
    first.push_back(total);
    total += sentence.words.size();
  }
  *num_rows = total;
  return first;
}

absl::StatusOr<ProbeItems> UposItems(const std::vector<tasks::TaggedSentence>& sentences,
                                     const std::vector<std::string>& tags) {
  ProbeItems items;
  int64_t row = 0;
  for (const tasks::TaggedSentence& sentence : sentences) {
    for (const std::string& tag : sentence.tags) {
      const auto found = std::find(tags.begin(), tags.end(), tag);
      if (found == tags.end()) {
        return absl::InvalidArgumentError(
            absl::StrCat("sentence ", sentence.id, " (line ", sentence.line, "): tag ", tag, " is not a UPOS tag"));
      }
      items.rows.push_back(row++);
      items.labels.push_back(static_cast<int32_t>(found - tags.begin()));
    }
  }
  return items;
}

std::string UniversalRelation(const std::string& deprel) { return deprel.substr(0, deprel.find(':')); }

std::vector<std::string> CollectRelations(const std::vector<tasks::TaggedSentence>& sentences) {
  std::set<std::string> relations;
  for (const tasks::TaggedSentence& sentence : sentences) {
    for (size_t w = 0; w < sentence.heads.size(); ++w) {
      if (sentence.heads[w] > 0) relations.insert(UniversalRelation(sentence.relations[w]));
    }
  }
  return {relations.begin(), relations.end()};
}

ProbeItems DeprelItems(const std::vector<tasks::TaggedSentence>& sentences, const std::vector<std::string>& relations,
                       int64_t* unseen) {
  ProbeItems items{.rows_per_item = 2};
  *unseen = 0;
  int64_t first_row = 0;
  for (const tasks::TaggedSentence& sentence : sentences) {
    for (size_t w = 0; w < sentence.heads.size(); ++w) {
      if (sentence.heads[w] <= 0) continue;  // the root, or not annotated
      const auto found = std::find(relations.begin(), relations.end(), UniversalRelation(sentence.relations[w]));
      if (found == relations.end()) {
        ++*unseen;
        continue;
      }
      items.rows.push_back(first_row + w);
      items.rows.push_back(first_row + sentence.heads[w] - 1);
      items.labels.push_back(static_cast<int32_t>(found - relations.begin()));
    }
    first_row += sentence.words.size();
  }
  return items;
}

LabelledFeatures ItemFeatures(const LayerVectors& vectors, int layer, const ProbeItems& items) {
  LabelledFeatures out{.dim = vectors.dim * items.rows_per_item, .y = items.labels};
  out.x.reserve(static_cast<size_t>(items.size()) * out.dim);
  for (int64_t row : items.rows) {
    const std::span<const float> v = vectors.vector(layer, row);
    out.x.insert(out.x.end(), v.begin(), v.end());
  }
  return out;
}

absl::StatusOr<std::vector<ClassAccuracy>> ProbeEveryLayer(const ProbeSplit& train, const ProbeSplit& dev,
                                                           const ProbeSplit& test,
                                                           const std::vector<std::string>& classes,
                                                           const SoftmaxRegressionOptions& options) {
  for (const ProbeSplit* split : {&dev, &test}) {
    if (split->vectors->layers() != train.vectors->layers() || split->vectors->dim != train.vectors->dim) {
      return absl::InvalidArgumentError("the splits' vectors come from different models");
    }
  }
  std::vector<ClassAccuracy> by_layer;
  for (int layer = 0; layer < train.vectors->layers(); ++layer) {
    LabelledFeatures train_features = ItemFeatures(*train.vectors, layer, train.items);
    LabelledFeatures dev_features = ItemFeatures(*dev.vectors, layer, dev.items);
    LabelledFeatures test_features = ItemFeatures(*test.vectors, layer, test.items);
    LabelledFeatures* others[] = {&dev_features, &test_features};
    StandardizeColumns(train_features, others);
    absl::StatusOr<SoftmaxRegression> fit =
        FitSoftmaxRegression(train_features, &dev_features, static_cast<int>(classes.size()), options);
    if (!fit.ok()) return absl::Status(fit.status().code(), absl::StrCat("layer ", layer, ": ", fit.status().message()));
    const std::vector<int32_t> predicted = fit->Predict(test_features.x);
    ClassAccuracy accuracy;
    for (int64_t i = 0; i < test_features.rows(); ++i) {
      accuracy.Add(classes[test_features.y[i]], predicted[i] == test_features.y[i]);
    }
    by_layer.push_back(std::move(accuracy));
  }
  return by_layer;
}

}  // namespace cloze::probe
