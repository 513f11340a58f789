#include "probe/fill_in_zh.h"

#include <algorithm>
#include <string_view>
#include <unordered_set>

#include "absl/strings/str_cat.h"
#include "data/read_file.h"
#include "data/sentence_splitter.h"
#include "data/text_checks.h"
#include "data/utf8.h"

namespace cloze::probe {
namespace {

// The closed list of function characters (fill_in_zh.h), grouped as its comment lists them.
const std::unordered_set<char32_t>& FunctionCharacters() {
  static const auto* characters = [] {
    constexpr std::u32string_view kGroups[] = {
        U"的地得之了着著过過所者",                            // structural and aspect particles
        U"吗嗎呢吧啊呀乎矣哉焉耳兮",                          // sentence-final particles
        U"我你您他她它们們这這那其此彼吾汝尔爾自己谁誰何某",  // pronouns, demonstratives
        U"在于於以从從对對向与與把被为為由给給将將比至往",    // prepositions, coverbs
        U"和及而或且并並但则則因若虽雖",                      // conjunctions
        U"不没沒未非无無莫勿弗",                              // negation
        U"是有乃",                                            // copula, existential
        U"也都就又还還很亦皆已",                              // frequent adverbs
    };
    auto* set = new std::unordered_set<char32_t>();
    for (std::u32string_view group : kGroups) set->insert(group.begin(), group.end());
    return set;
  }();
  return *characters;
}

bool IsHanNumeral(char32_t c) {
  return std::u32string_view(U"一二三四五六七八九十百千万萬亿億零〇两兩").find(c) != std::u32string_view::npos;
}

bool IsChinesePunctuation(char32_t c) {
  auto in = [c](char32_t first, char32_t last) { return c >= first && c <= last; };
  return in(0x3001, 0x3003) || in(0x3008, 0x3011) || in(0x3014, 0x301F) ||  // 、。〃 〈〉《》「」『』【】 〔〕...
         in(0xFF01, 0xFF0F) || in(0xFF1A, 0xFF20) || in(0xFF3B, 0xFF40) || in(0xFF5B, 0xFF65) ||  // full-width
         in(0x2010, 0x2027) || c == 0x00B7 ||                                  // — ‘’ “” … and ·
         in(0xFE10, 0xFE19) || in(0xFE30, 0xFE4F) || in(0xFE50, 0xFE6B);      // vertical and small forms
}

// A character of a sentence that the probe asks: its bytes and class.
struct AskedCharacter {
  size_t begin = 0, end = 0;
  std::string word_class;
};

std::vector<AskedCharacter> AskedCharacters(std::string_view sentence) {
  std::vector<AskedCharacter> asked;
  for (size_t pos = 0; pos < sentence.size();) {
    const size_t begin = pos;
    std::string word_class = ChineseCharacterClass(data::NextCodePoint(sentence, &pos));
    if (!word_class.empty()) asked.push_back({.begin = begin, .end = pos, .word_class = std::move(word_class)});
  }
  return asked;
}

// Appends one feature per window of `tokens` and one query per character of `sentence` that
// is asked (fill_in_zh.h), the query's `feature` left null and its feature's index in
// `feature_of_query`.
void AddSentence(std::string_view sentence, const data::Tokenizer& tokenizer, int window, ChineseFillIn& out,
                 std::vector<size_t>& feature_of_query) {
  const std::vector<data::TokenSpan> tokens = tokenizer.EncodeWithOffsets(sentence);
  if (tokens.empty()) return;
  const size_t first_feature = out.features.size();
  for (size_t start = 0; start < tokens.size(); start += window) {
    tasks::TaggingFeature feature;
    feature.input_ids.push_back(tokenizer.cls_id());
    for (size_t t = start; t < std::min(tokens.size(), start + window); ++t) feature.input_ids.push_back(tokens[t].id);
    feature.input_ids.push_back(tokenizer.sep_id());
    feature.token_type_ids.assign(feature.input_ids.size(), 0);
    feature.attention_mask.assign(feature.input_ids.size(), 1);
    out.features.push_back(std::move(feature));
  }
  size_t first_token = 0;  // tokens before it end before the current character
  for (const AskedCharacter& character : AskedCharacters(sentence)) {
    while (first_token < tokens.size() && tokens[first_token].end <= character.begin) ++first_token;
    std::vector<size_t> covering;
    bool shared = false, unknown = false;
    for (size_t t = first_token; t < tokens.size() && tokens[t].begin < character.end; ++t) {
      if (tokens[t].end <= character.begin || tokens[t].begin == tokens[t].end) continue;  // before it, or "▁" alone
      covering.push_back(t);
      shared = shared || tokens[t].begin < character.begin || tokens[t].end > character.end;
      unknown = unknown || tokens[t].id == tokenizer.unk_id();
    }
    if (covering.empty()) continue;  // removed by normalisation: nothing to mask
    if (shared) {
      ++out.in_longer_pieces;
    } else if (unknown) {
      ++out.unknown;
    } else if (covering.front() / window != covering.back() / window) {
      ++out.cut;
    } else {
      FillInQuery query{.word_class = character.word_class};
      const size_t window_start = covering.front() / window * window;
      for (size_t t : covering) {
        query.positions.push_back(static_cast<int32_t>(t - window_start + 1));  // after [CLS]
        query.original_ids.push_back(tokens[t].id);
      }
      out.queries.push_back(std::move(query));
      feature_of_query.push_back(first_feature + covering.front() / window);
    }
  }
}

}  // namespace

std::string ChineseCharacterClass(char32_t c) {
  if (IsHanNumeral(c)) return "numeral";  // before punctuation: 〇 is in the CJK symbols block
  if (IsChinesePunctuation(c)) return "punctuation";
  if (!data::IsCjkIdeograph(c)) return "";
  return FunctionCharacters().contains(c) ? "function" : "content";
}

absl::StatusOr<std::vector<std::string>> ReadChineseSentences(const std::string& path, int skip_lines,
                                                              const tasks::ReadOptions& read, tasks::ReadStats* stats) {
  absl::StatusOr<std::string> text = data::ReadFile(path);
  if (!text.ok()) return text.status();
  tasks::ReadStats mine;
  std::vector<std::string> sentences;
  std::string_view rest = *text;
  while (!rest.empty()) {
    const size_t newline = rest.find('\n');
    const std::string_view line = data::TrimAsciiSpace(rest.substr(0, newline));
    rest = newline == std::string_view::npos ? std::string_view() : rest.substr(newline + 1);
    if (++mine.lines <= skip_lines) continue;
    if (!data::IsValidUtf8(line)) {
      const std::string error = absl::StrCat(path, ":", mine.lines, ": not valid UTF-8");
      if (!read.skip_bad_lines) return absl::InvalidArgumentError(error);
      mine.Skip(error);
      continue;
    }
    for (std::string& sentence : data::SplitSentences(line)) {
      const std::vector<AskedCharacter> asked = AskedCharacters(sentence);
      if (std::ranges::any_of(asked, [](const AskedCharacter& c) { return c.word_class != "punctuation"; })) {
        sentences.push_back(std::move(sentence));
      }
    }
  }
  if (sentences.empty()) {
    return absl::FailedPreconditionError(absl::StrCat(path, ": no sentence with a Han character",
                                                      skip_lines > 0 ? absl::StrCat(" after line ", skip_lines) : ""));
  }
  mine.examples = static_cast<int64_t>(sentences.size());
  if (stats != nullptr) stats->Add(mine);
  return sentences;
}

absl::StatusOr<ChineseFillIn> ChineseFillInQueries(const std::vector<std::string>& sentences,
                                                   const data::Tokenizer& tokenizer, int max_seq_length) {
  if (max_seq_length < 3) return absl::InvalidArgumentError(absl::StrCat("max_seq_length ", max_seq_length, " < 3"));
  ChineseFillIn out;
  std::vector<size_t> feature_of_query;
  for (const std::string& sentence : sentences) AddSentence(sentence, tokenizer, max_seq_length - 2, out, feature_of_query);
  // Now that the features no longer move, the queries point into them.
  for (size_t q = 0; q < out.queries.size(); ++q) out.queries[q].feature = &out.features[feature_of_query[q]];
  return out;
}

}  // namespace cloze::probe
