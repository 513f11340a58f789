// Which input format (input_format.h) a file is in, judged from its name and its first
// bytes, with the reason in words for prepare's summary.
//
// In order: a .jsonl name or a first line that is a JSON object with "text" → jsonl;
// "<doc " → wikiextractor; "= Title =" → wikitext; a "*** START OF" line → wrapped
// (Project Gutenberg). Then from line statistics of the sample: mostly Chinese
// characters → chinese (bert when lines hold one sentence each, lines when there are no
// blank lines and no chapter headings); most lines broken mid-sentence → wrapped; lines
// holding several sentences → paragraphs (lines when there is no blank line at all);
// otherwise bert. A pure function of (path, sample).
#ifndef CLOZE_DATA_FORMAT_DETECTION_H_
#define CLOZE_DATA_FORMAT_DETECTION_H_

#include <cstddef>
#include <string>
#include <string_view>

namespace cloze::data {

struct FormatDecision {
  std::string format;  // a name from InputFormatNames()
  std::string reason;  // "a = Title = line", "62% of lines end mid-sentence", …
  bool gutenberg_markers = false;  // the sample holds a "*** START OF" line
};

// How much of a file detection reads.
inline constexpr size_t kDetectionSampleBytes = 64 << 10;

// `sample`: the file's first bytes (up to kDetectionSampleBytes; a cut last line is
// ignored), UTF-8 BOM included if the file has one.
FormatDecision DetectInputFormat(std::string_view path, std::string_view sample);

}  // namespace cloze::data

#endif  // CLOZE_DATA_FORMAT_DETECTION_H_
