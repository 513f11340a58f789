#include "eval/evaluation_report.h"

#include <cmath>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"

namespace cloze::eval {
namespace {

using nlohmann::json;

json StatsJson(const SeedColumn& column) {
  const SeedSummary& s = column.stats;
  json j;
  j["mean"] = s.mean;
  j["median"] = s.median;
  j["std"] = std::isfinite(s.standard_deviation) ? json(s.standard_deviation) : json(nullptr);
  j["min"] = s.min;
  j["max"] = s.max;
  j["values"] = column.values;
  return j;
}

json CellJson(const EvaluationCell& cell) {
  json metrics = json::object();
  for (const SeedColumn& m : cell.metrics) metrics[m.name] = StatsJson(m);
  json j;
  j["metrics"] = metrics;
  j["score"] = StatsJson(cell.score);
  if (cell.relative_to_human.has_value()) j["relative_to_human"] = *cell.relative_to_human;
  j["degenerate_seeds"] = cell.degenerate_seeds;
  j["top_seed"] = cell.top_seed;
  return j;
}

json ColumnsJson(const InitColumns& c) { return {{"final", CellJson(c.final_eval)}, {"best", CellJson(c.best_eval)}}; }

std::string PartialNote(const GlueAverage& glue) {
  if (glue.missing.empty()) return "the GLUE score: all nine tasks";
  return absl::StrCat("a partial average over ", glue.tasks.size(),
                      " of the 9 GLUE tasks, not the GLUE score (missing: ", absl::StrJoin(glue.missing, ", "), ")");
}

json GlueJson(const GlueAverage& glue) {
  json j;
  j["tasks"] = glue.tasks;
  j["missing"] = glue.missing;
  j["partial"] = !glue.missing.empty();
  j["note"] = PartialNote(glue);
  j["human_score"] = glue.human_score;
  j["init"] = {{"final", glue.model.final_score}, {"best", glue.model.best_score}};
  if (glue.scratch.has_value()) {
    j["scratch"] = {{"final", glue.scratch->final_score}, {"best", glue.scratch->best_score}};
    j["difference"] = {{"final", glue.model.final_score - glue.scratch->final_score},
                       {"best", glue.model.best_score - glue.scratch->best_score}};
  }
  return j;
}

std::string Number(double v) { return absl::StrFormat("%.2f", v); }

std::string MeanStd(const SeedSummary& s, double scale = 1) {
  const std::string spread = std::isfinite(s.standard_deviation) ? Number(scale * s.standard_deviation) : "n/a";
  return absl::StrCat(Number(scale * s.mean), " ± ", spread);
}

std::string Signed(double v) { return absl::StrFormat("%+.2f", v); }

std::string ScoresTable(const EvaluationTable& table) {
  const bool scratch = !table.rows.empty() && table.rows.front().scratch.has_value();
  std::string out =
      "### Task scores\n\nPercent, mean ± sample std over the seeds; a GLUE task's score is the mean of its "
      "metrics, as the GLUE server computes it; human: the published human baseline (Nangia & Bowman 2019).\n\n"
      "| task | seeds | final | best on dev | human | final / human |";
  std::string rule = "|---|---|---|---|---|---|";
  if (scratch) {
    absl::StrAppend(&out, " scratch final | scratch best | Δ final | Δ best |");
    absl::StrAppend(&rule, "---|---|---|---|");
  }
  absl::StrAppend(&out, "\n", rule, "\n");
  for (const TaskRow& row : table.rows) {
    const InitColumns& m = row.model;
    absl::StrAppend(&out, "| ", row.task, " | ", absl::StrJoin(row.seeds, ", "), " | ",
                    MeanStd(m.final_eval.score.stats), " | ", MeanStd(m.best_eval.score.stats), " | ",
                    row.human_score.has_value() ? Number(*row.human_score) : "", " | ",
                    m.final_eval.relative_to_human.has_value() ? Number(*m.final_eval.relative_to_human) : "", " |");
    if (scratch) {
      const InitColumns& s = *row.scratch;
      absl::StrAppend(&out, " ", MeanStd(s.final_eval.score.stats), " | ", MeanStd(s.best_eval.score.stats), " | ",
                      Signed(m.final_eval.score.stats.mean - s.final_eval.score.stats.mean), " | ",
                      Signed(m.best_eval.score.stats.mean - s.best_eval.score.stats.mean), " |");
    }
    absl::StrAppend(&out, "\n");
  }
  if (table.glue.has_value()) {
    const GlueAverage& g = *table.glue;
    absl::StrAppend(&out, "| GLUE", g.missing.empty() ? "" : absl::StrCat(" (partial: ", g.tasks.size(), " of 9)"),
                    " | | ", Number(g.model.final_score), " | ", Number(g.model.best_score), " | ",
                    Number(g.human_score), " | ", Number(g.model.final_score / g.human_score), " |");
    if (g.scratch.has_value()) {
      absl::StrAppend(&out, " ", Number(g.scratch->final_score), " | ", Number(g.scratch->best_score), " | ",
                      Signed(g.model.final_score - g.scratch->final_score), " | ",
                      Signed(g.model.best_score - g.scratch->best_score), " |");
    }
    absl::StrAppend(&out, "\n\nGLUE: ", PartialNote(g), ".\n");
  }
  return out;
}

void AppendMetricRows(const TaskRow& row, const char* init, const InitColumns& columns, std::string& out) {
  const double scale = MetricsInPercent(row.task) ? 1 : 100;
  for (const auto& [kind, cell] :
       {std::pair{"final", &columns.final_eval}, std::pair{"best on dev", &columns.best_eval}}) {
    for (const SeedColumn& m : cell->metrics) {
      absl::StrAppend(&out, "| ", row.task, " | ", init, " | ", kind, " | ", m.name, " | ", MeanStd(m.stats, scale),
                      " | ", Number(scale * m.stats.median), " | ", Number(scale * m.stats.min), " | ",
                      Number(scale * m.stats.max), " |\n");
    }
    // A GLUE task of two metrics scores their mean; otherwise the score repeats a metric above.
    if (!row.glue_task.has_value() || cell->metrics.size() < 2) continue;
    const SeedSummary& s = cell->score.stats;
    absl::StrAppend(&out, "| ", row.task, " | ", init, " | ", kind, " | score | ", MeanStd(s), " | ", Number(s.median),
                    " | ", Number(s.min), " | ", Number(s.max), " |\n");
  }
}

std::string MetricsTable(const EvaluationTable& table) {
  std::string out =
      "### Metrics over seeds\n\nPercent (metrics as GLUE reports them: CoLA Matthews correlation, MRPC and QQP F1 "
      "and accuracy, STS-B Pearson and Spearman, MNLI matched and mismatched accuracy, the others accuracy).\n\n"
      "| task | from | evaluation | metric | mean ± std | median | min | max |\n|---|---|---|---|---|---|---|---|\n";
  for (const TaskRow& row : table.rows) {
    AppendMetricRows(row, "init", row.model, out);
    if (row.scratch.has_value()) AppendMetricRows(row, "scratch", *row.scratch, out);
  }
  return out;
}

std::string DegenerateRuns(const EvaluationTable& table) {
  std::vector<std::string> lines;
  auto add = [&](const TaskRow& row, const char* init, const InitColumns& c) {
    for (const auto& [kind, cell] : {std::pair{"final", &c.final_eval}, std::pair{"best on dev", &c.best_eval}}) {
      if (!cell->degenerate_seeds.empty()) {
        lines.push_back(absl::StrCat("- ", row.task, ", ", init, ", ", kind, ": seeds ",
                                     absl::StrJoin(cell->degenerate_seeds, ", ")));
      }
    }
  };
  for (const TaskRow& row : table.rows) {
    add(row, "init", row.model);
    if (row.scratch.has_value()) add(row, "scratch", *row.scratch);
  }
  if (lines.empty()) return "Degenerate runs: none.\n";
  return absl::StrCat("Degenerate runs (one prediction for every dev example; they stay in the statistics above):\n\n",
                      absl::StrJoin(lines, "\n"), "\n");
}

}  // namespace

nlohmann::json EvaluationTableJson(const EvaluationTable& table) {
  json tasks = json::array();
  for (const TaskRow& row : table.rows) {
    json t;
    t["task"] = row.task;
    t["seeds"] = row.seeds;
    if (row.human_score.has_value()) t["human_score"] = *row.human_score;
    t["init"] = ColumnsJson(row.model);
    if (row.scratch.has_value()) {
      t["scratch"] = ColumnsJson(*row.scratch);
      t["difference"] = {{"final", row.model.final_eval.score.stats.mean - row.scratch->final_eval.score.stats.mean},
                         {"best", row.model.best_eval.score.stats.mean - row.scratch->best_eval.score.stats.mean}};
    }
    tasks.push_back(t);
  }
  json j;
  j["tasks"] = tasks;
  if (table.glue.has_value()) j["glue"] = GlueJson(*table.glue);
  return j;
}

std::string EvaluationTableMarkdown(const EvaluationTable& table) {
  return absl::StrCat(ScoresTable(table), "\n", MetricsTable(table), "\n", DegenerateRuns(table));
}

}  // namespace cloze::eval
