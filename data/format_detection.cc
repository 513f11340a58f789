#include "data/format_detection.h"

#include <algorithm>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "data/format_markers.h"
#include "data/sentence_splitter.h"
#include "data/text_checks.h"
#include "nlohmann/json.hpp"

namespace cloze::data {
namespace {

// Thresholds, tuned on the corpora of shared/data (tests: format_detection_test).
constexpr double kChineseShare = 0.3;       // of characters that are CJK ideographs
constexpr double kMultiSentenceShare = 0.2;  // of lines holding two sentences or more
constexpr double kMidSentenceShare = 0.4;    // of lines followed by another that end mid-sentence
// Hard wrapping fills lines to nearly the wrap width: this share of the lines followed by
// another is at least kNearWidth of the width (the 95th percentile of line lengths).
constexpr double kFullLineShare = 0.5;
constexpr double kNearWidth = 0.7;

struct SampleStatistics {
  int lines = 0, blank_lines = 0, multi_sentence = 0;
  int followed = 0, followed_mid_sentence = 0;  // lines followed by a non-blank line; of them unterminated
  int followed_full = 0;                          // ... of them near the wrap width
  int64_t characters = 0, ideographs = 0;
  bool chapter_heading = false;
  double Share(int part, int whole) const { return whole > 0 ? static_cast<double>(part) / whole : 0; }
};

void CountCharacters(std::string_view text, SampleStatistics& s) {
  for (unsigned char c : text) {
    if ((c & 0xC0) == 0x80 || c == ' ' || c == '\t') continue;  // continuation bytes, spaces
    ++s.characters;
    s.ideographs += c >= 0xE4 && c <= 0xE9;  // U+4000–U+9FFF: the CJK Unified Ideographs
  }
}

std::vector<std::string_view> SampleLines(std::string_view sample) {
  ConsumePrefix(&sample, "\xEF\xBB\xBF");
  std::vector<std::string_view> lines;
  while (!sample.empty()) {
    const size_t newline = sample.find('\n');
    if (newline == std::string_view::npos) {
      if (lines.empty()) lines.push_back(sample);  // a cut last line says little
      break;
    }
    std::string_view line = sample.substr(0, newline);
    ConsumeSuffix(&line, "\r");
    lines.push_back(line);
    sample.remove_prefix(newline + 1);
  }
  return lines;
}

// Lines as the statistics see them: trimmed, bad lines (which the source skips) dropped.
std::vector<std::string_view> UsableLines(const std::vector<std::string_view>& lines) {
  std::vector<std::string_view> usable;
  for (std::string_view line : lines) {
    if (IsValidUtf8(line) && !LooksBinary(line)) usable.push_back(TrimSpacesAndIdeographic(line));
  }
  return usable;
}

size_t WrapWidth(const std::vector<std::string_view>& lines) {
  std::vector<size_t> lengths;
  for (std::string_view line : lines) {
    if (!line.empty()) lengths.push_back(line.size());
  }
  if (lengths.empty()) return 0;
  std::sort(lengths.begin(), lengths.end());
  return lengths[lengths.size() * 95 / 100];
}

SampleStatistics Measure(const std::vector<std::string_view>& lines) {
  SampleStatistics s;
  const double full_length = kNearWidth * static_cast<double>(WrapWidth(lines));
  for (size_t i = 0; i < lines.size(); ++i) {
    const std::string_view text = lines[i];
    if (text.empty()) {
      ++s.blank_lines;
      continue;
    }
    ++s.lines;
    CountCharacters(text, s);
    s.chapter_heading = s.chapter_heading || IsChineseChapterHeading(text);
    if (SplitSentences(text).size() >= 2) ++s.multi_sentence;
    if (i + 1 < lines.size() && !lines[i + 1].empty()) {
      ++s.followed;
      s.followed_mid_sentence += !EndsSentence(text);
      s.followed_full += static_cast<double>(text.size()) >= full_length;
    }
  }
  return s;
}

std::string Percent(double share) { return absl::StrFormat("%.0f%%", 100 * share); }

FormatDecision FromStatistics(const SampleStatistics& s) {
  const double multi = s.Share(s.multi_sentence, s.lines);
  const std::string multi_text = absl::StrCat(Percent(multi), " of lines hold several sentences");
  if (s.characters > 0 && static_cast<double>(s.ideographs) / s.characters >= kChineseShare) {
    if (multi < kMultiSentenceShare && s.blank_lines > 0) return {"bert", "Chinese, one sentence per line"};
    if (s.chapter_heading) return {"chinese", "Chinese with 第…回 chapter headings"};
    if (s.blank_lines == 0) return {"lines", absl::StrCat("Chinese, no blank lines, ", multi_text)};
    return {"chinese", absl::StrCat("Chinese, ", multi_text)};
  }
  const double mid = s.Share(s.followed_mid_sentence, s.followed);
  if (mid >= kMidSentenceShare && s.Share(s.followed_full, s.followed) >= kFullLineShare) {
    return {"wrapped", absl::StrCat(Percent(mid), " of lines followed by another end mid-sentence")};
  }
  if (multi >= kMultiSentenceShare) {
    if (s.blank_lines == 0) return {"lines", absl::StrCat(multi_text, ", no blank lines")};
    return {"paragraphs", multi_text};
  }
  return {"bert", absl::StrCat("one sentence per line: ", multi_text)};
}

}  // namespace

FormatDecision DetectInputFormat(std::string_view path, std::string_view sample) {
  if (path.ends_with(".jsonl")) return {"jsonl", "the name ends in .jsonl"};
  const std::vector<std::string_view> lines = SampleLines(sample);
  std::string_view first;
  for (std::string_view line : lines) {
    first = TrimAsciiSpace(line);
    if (!first.empty()) break;
  }
  if (first.starts_with("{")) {
    const nlohmann::json value = nlohmann::json::parse(first, nullptr, /*allow_exceptions=*/false);
    if (value.is_object() && value.contains("text") && value["text"].is_string()) {
      return {"jsonl", "lines are JSON objects with a \"text\""};
    }
  }
  if (first.starts_with("<doc ")) return {"wikiextractor", "a <doc …> line"};
  if (IsWikiTextTitle(first)) return {"wikitext", "a \"= Title =\" line"};
  for (std::string_view line : lines) {
    if (IsGutenbergMarker(TrimAsciiSpace(line), "START OF")) {
      FormatDecision decision{"wrapped", "a Project Gutenberg \"*** START OF\" line"};
      decision.gutenberg_markers = true;
      return decision;
    }
  }
  return FromStatistics(Measure(UsableLines(lines)));
}

}  // namespace cloze::data
