#include "eval/evaluation_table.h"

#include <algorithm>
#include <set>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "eval/glue_score.h"

namespace cloze::eval {
namespace {

// The names the fine-tune gives a GLUE task's metrics (tasks/glue_tasks.cc's specs; MNLI's
// second dev split is suffixed "_mismatched"), in GlueMetricNames' order.
std::vector<std::string> ReportedGlueMetrics(GlueTask task) {
  switch (task) {
    case GlueTask::kCoLA: return {"matthews_corrcoef"};
    case GlueTask::kMRPC:
    case GlueTask::kQQP: return {"f1", "accuracy"};
    case GlueTask::kSTSB: return {"pearson", "spearman"};
    case GlueTask::kMNLI: return {"accuracy", "accuracy_mismatched"};
    default: return {"accuracy"};
  }
}

absl::StatusOr<SeedColumn> Column(std::string name, std::vector<double> values, const std::string& where) {
  absl::StatusOr<SeedSummary> stats = SummarizeSeeds(values);
  if (!stats.ok()) return absl::InvalidArgumentError(absl::StrCat(where, " ", name, ": ", stats.status().message()));
  return SeedColumn{.name = std::move(name), .values = std::move(values), .stats = *stats};
}

// The score of one seed's evaluation, in percent.
absl::StatusOr<double> Score(const std::string& task, const std::optional<GlueTask>& glue, const SeedResult& r,
                             const std::string& where) {
  if (!glue.has_value()) return r.metrics.front().second * (MetricsInPercent(task) ? 1 : 100);
  std::vector<double> values;
  for (const std::string& name : ReportedGlueMetrics(*glue)) {
    auto it = std::find_if(r.metrics.begin(), r.metrics.end(), [&](const auto& m) { return m.first == name; });
    if (it == r.metrics.end()) {
      return absl::InvalidArgumentError(absl::StrCat(where, ": seed ", r.seed, " reports no \"", name,
                                                     "\", which the GLUE score of ", task, " averages"));
    }
    values.push_back(it->second);
  }
  absl::StatusOr<double> score = GlueTaskScore(*glue, values);
  if (!score.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(where, ": seed ", r.seed, ": ", score.status().message()));
  }
  return *score;
}

absl::StatusOr<EvaluationCell> Cell(const std::string& task, const std::optional<GlueTask>& glue,
                                    absl::Span<const SeedResult> seeds, const std::string& where) {
  const SeedResult& first = seeds.front();
  if (first.metrics.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(where, ": seed ", first.seed, " reports no metric"));
  }
  EvaluationCell cell;
  for (size_t m = 0; m < first.metrics.size(); ++m) {
    std::vector<double> values;
    for (const SeedResult& r : seeds) {
      if (r.metrics.size() != first.metrics.size() || r.metrics[m].first != first.metrics[m].first) {
        return absl::InvalidArgumentError(absl::StrCat(where, ": seed ", r.seed, " reports other metrics than seed ",
                                                       first.seed, " (", first.metrics[m].first, ")"));
      }
      values.push_back(r.metrics[m].second);
    }
    absl::StatusOr<SeedColumn> column = Column(first.metrics[m].first, std::move(values), where);
    if (!column.ok()) return column.status();
    cell.metrics.push_back(*std::move(column));
  }
  std::vector<double> scores;
  for (const SeedResult& r : seeds) {
    absl::StatusOr<double> score = Score(task, glue, r, where);
    if (!score.ok()) return score.status();
    if (scores.empty() || *score > *std::max_element(scores.begin(), scores.end())) cell.top_seed = r.seed;
    scores.push_back(*score);
    if (r.degenerate) cell.degenerate_seeds.push_back(r.seed);
  }
  absl::StatusOr<SeedColumn> score = Column("score", std::move(scores), where);
  if (!score.ok()) return score.status();
  cell.score = *std::move(score);
  if (glue.has_value()) cell.relative_to_human = cell.score.stats.mean / GlueHumanTaskScore(*glue);
  return cell;
}

std::vector<uint64_t> SeedsOf(absl::Span<const SeedResult> evals) {
  std::vector<uint64_t> seeds;
  for (const SeedResult& r : evals) seeds.push_back(r.seed);
  return seeds;
}

absl::StatusOr<InitColumns> Columns(const TaskRuns& runs, const std::optional<GlueTask>& glue,
                                    const std::string& init) {
  const std::string where = absl::StrCat(runs.task, " (", init, ")");
  if (runs.final_evals.empty()) return absl::InvalidArgumentError(absl::StrCat(where, ": no seed"));
  if (SeedsOf(runs.final_evals) != SeedsOf(runs.best_evals)) {
    return absl::InvalidArgumentError(absl::StrCat(where, ": the best evaluations are of seeds ",
                                                   absl::StrJoin(SeedsOf(runs.best_evals), ", "), ", the final of ",
                                                   absl::StrJoin(SeedsOf(runs.final_evals), ", ")));
  }
  absl::StatusOr<EvaluationCell> final_eval = Cell(runs.task, glue, runs.final_evals, absl::StrCat(where, " final"));
  if (!final_eval.ok()) return final_eval.status();
  absl::StatusOr<EvaluationCell> best_eval = Cell(runs.task, glue, runs.best_evals, absl::StrCat(where, " best"));
  if (!best_eval.ok()) return best_eval.status();
  return InitColumns{.final_eval = *std::move(final_eval), .best_eval = *std::move(best_eval)};
}

GlueColumns Average(const std::vector<const InitColumns*>& columns) {
  GlueColumns average;
  for (const InitColumns* c : columns) {
    average.final_score += c->final_eval.score.stats.mean / columns.size();
    average.best_score += c->best_eval.score.stats.mean / columns.size();
  }
  return average;
}

// The GLUE tasks among the rows, averaged as the GLUE server does (each task counts once).
std::optional<GlueAverage> GlueOf(const std::vector<TaskRow>& rows) {
  GlueAverage glue;
  std::vector<const InitColumns*> model, scratch;
  for (GlueTask task : kGlueTasks) {
    const std::string name(GlueTaskName(task));
    auto row = std::find_if(rows.begin(), rows.end(), [&](const TaskRow& r) { return r.glue_task == task; });
    if (row == rows.end()) {
      glue.missing.push_back(name);
      continue;
    }
    glue.tasks.push_back(name);
    glue.human_score += GlueHumanTaskScore(task);
    model.push_back(&row->model);
    if (row->scratch.has_value()) scratch.push_back(&*row->scratch);
  }
  if (glue.tasks.empty()) return std::nullopt;
  glue.human_score /= glue.tasks.size();
  glue.model = Average(model);
  if (!scratch.empty()) glue.scratch = Average(scratch);
  return glue;
}

}  // namespace

bool MetricsInPercent(const std::string& task) { return task == "squad" || task == "squad_v2"; }

absl::StatusOr<EvaluationTable> BuildEvaluationTable(absl::Span<const TaskRuns> model,
                                                     absl::Span<const TaskRuns> scratch) {
  if (model.empty()) return absl::InvalidArgumentError("evaluation table: no task");
  if (!scratch.empty() && scratch.size() != model.size()) {
    return absl::InvalidArgumentError(absl::StrCat("evaluation table: ", model.size(), " tasks from the init, ",
                                                   scratch.size(), " from scratch"));
  }
  EvaluationTable table;
  std::set<std::string> seen;
  for (size_t t = 0; t < model.size(); ++t) {
    const TaskRuns& runs = model[t];
    absl::StatusOr<GlueTask> glue_task = GlueTaskFromName(runs.task);
    const std::optional<GlueTask> glue = glue_task.ok() ? std::optional(*glue_task) : std::nullopt;
    // GLUE names match loosely ("sst2"), so a task is known by its canonical name.
    const std::string name = glue.has_value() ? std::string(GlueTaskName(*glue)) : runs.task;
    if (!seen.insert(name).second) {
      return absl::InvalidArgumentError(absl::StrCat("evaluation table: ", name, " is given twice"));
    }
    TaskRow row{.task = runs.task, .glue_task = glue, .seeds = SeedsOf(runs.final_evals)};
    if (glue.has_value()) row.human_score = GlueHumanTaskScore(*glue);
    absl::StatusOr<InitColumns> columns = Columns(runs, glue, "init");
    if (!columns.ok()) return columns.status();
    row.model = *std::move(columns);
    if (!scratch.empty()) {
      const TaskRuns& from_scratch = scratch[t];
      if (from_scratch.task != runs.task || SeedsOf(from_scratch.final_evals) != row.seeds) {
        return absl::InvalidArgumentError(
            absl::StrCat("evaluation table: the scratch runs of ", from_scratch.task, " (seeds ",
                         absl::StrJoin(SeedsOf(from_scratch.final_evals), ", "), ") do not match the init's of ",
                         runs.task, " (seeds ", absl::StrJoin(row.seeds, ", "), ")"));
      }
      absl::StatusOr<InitColumns> scratch_columns = Columns(from_scratch, glue, "scratch");
      if (!scratch_columns.ok()) return scratch_columns.status();
      row.scratch = *std::move(scratch_columns);
    }
    table.rows.push_back(std::move(row));
  }
  table.glue = GlueOf(table.rows);
  return table;
}

}  // namespace cloze::eval
