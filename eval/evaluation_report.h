// The evaluation table (evaluation_table.h) as `cloze evaluate` writes it: evaluation.json for
// programs and a markdown table for people (evaluation.md, and the terminal).
#ifndef CLOZE_EVAL_EVALUATION_REPORT_H_
#define CLOZE_EVAL_EVALUATION_REPORT_H_

#include <string>

#include "eval/evaluation_table.h"
#include "nlohmann/json.hpp"

namespace cloze::eval {

// {"tasks": [ROW...], "glue": GLUE (absent without a GLUE task)}, where
//   ROW  = {"task", "seeds": [...], "human_score" (GLUE tasks), "init": {"final": CELL,
//          "best": CELL}, "scratch": {...} and "difference": {"final", "best"} (the mean
//          scores' difference, init - scratch) with scratch runs}
//   CELL = {"metrics": {NAME: STATS}, "score": STATS, "relative_to_human" (GLUE tasks),
//          "degenerate_seeds": [...], "top_seed"}
//   STATS = {"mean", "median", "std" (null for one seed), "min", "max", "values": [per seed]},
//          as seeds_summary.json has them: metrics as the runs report them, scores in percent
//   GLUE = {"tasks": [...], "missing": [...], "partial": bool, "note", "init": {"final",
//          "best"}, and "scratch", "difference" with scratch runs}
nlohmann::json EvaluationTableJson(const EvaluationTable& table);

// Markdown: the task scores (mean ± std of final and best on dev, against the human baseline,
// against scratch), the GLUE average with a note when it is partial, every metric's statistics
// (mean ± std, median, min, max; in percent), and the degenerate runs.
std::string EvaluationTableMarkdown(const EvaluationTable& table);

}  // namespace cloze::eval

#endif  // CLOZE_EVAL_EVALUATION_REPORT_H_
