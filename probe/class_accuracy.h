// Accuracy per class and overall, as every probe reports it: the fraction of a class's
// items (words, word pairs, sentences) that the probe got right.
#ifndef CLOZE_PROBE_CLASS_ACCURACY_H_
#define CLOZE_PROBE_CLASS_ACCURACY_H_

#include <cstdint>
#include <map>
#include <string>

namespace cloze::probe {

struct Tally {
  int64_t right = 0, count = 0;
  double accuracy() const { return count == 0 ? 0.0 : static_cast<double>(right) / count; }
};

struct ClassAccuracy {
  std::map<std::string, Tally> by_class;  // by gold class: UPOS tag, relation, sentiment
  Tally overall;

  void Add(const std::string& gold_class, bool right) {
    Tally& tally = by_class[gold_class];
    tally.right += right, ++tally.count;
    overall.right += right, ++overall.count;
  }
};

}  // namespace cloze::probe

#endif  // CLOZE_PROBE_CLASS_ACCURACY_H_
