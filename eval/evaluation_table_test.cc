// The evaluation table against hand-computed values: GLUE task scores over seeds (one- and
// two-metric tasks), the human-relative scores, the partial and the full GLUE average, the
// scratch columns, non-GLUE tasks, degenerate runs, the errors, and the rendered JSON/markdown.
#include "eval/evaluation_table.h"

#include <cmath>
#include <string>
#include <vector>

#include "eval/evaluation_report.h"
#include "eval/glue_score.h"
#include "gtest/gtest.h"
#include "tasks/glue_tasks.h"

namespace cloze::eval {
namespace {

using Metrics = std::vector<std::pair<std::string, double>>;

// Runs whose final and best evaluations are the same, one per seed 1, 2, ...
TaskRuns Runs(std::string task, std::vector<Metrics> per_seed) {
  TaskRuns runs{.task = std::move(task)};
  for (size_t i = 0; i < per_seed.size(); ++i) runs.final_evals.push_back({.seed = i + 1, .metrics = per_seed[i]});
  runs.best_evals = runs.final_evals;
  return runs;
}

// The names cloze finetune gives a GLUE task's metrics: the task spec's (tasks/glue_tasks.h),
// and MNLI's second dev split suffixed as the sentence task names it (trainer/finetune_task.h).
std::vector<std::string> FinetuneMetricNames(GlueTask task) {
  std::vector<std::string> names = tasks::GlueTaskSpec(std::string(GlueTaskName(task))).value().metrics;
  if (task == GlueTask::kMNLI) names.push_back("accuracy_mismatched");
  return names;
}

TEST(EvaluationTableTest, GlueScoresOverSeedsAndThePartialAverage) {
  TaskRuns rte = Runs("RTE", {{{"accuracy", 0.5}}, {{"accuracy", 0.75}}});
  rte.best_evals[0].metrics = {{"accuracy", 0.625}};
  // STS-B averages two metrics: seed 1 (80 + 60) / 2 = 70, seed 2 (90 + 70) / 2 = 80.
  const TaskRuns stsb = Runs("STS-B", {{{"pearson", 0.8}, {"spearman", 0.6}}, {{"pearson", 0.9}, {"spearman", 0.7}}});
  const EvaluationTable table = BuildEvaluationTable({rte, stsb}, {}).value();

  ASSERT_EQ(table.rows.size(), 2u);
  const TaskRow& r = table.rows[0];
  EXPECT_EQ(r.task, "RTE");
  EXPECT_EQ(r.seeds, (std::vector<uint64_t>{1, 2}));
  EXPECT_DOUBLE_EQ(*r.human_score, 93.6);
  EXPECT_EQ(r.model.final_eval.score.values, (std::vector<double>{50, 75}));
  EXPECT_DOUBLE_EQ(r.model.final_eval.score.stats.mean, 62.5);
  EXPECT_DOUBLE_EQ(r.model.final_eval.score.stats.standard_deviation, std::sqrt(2 * 12.5 * 12.5));  // n - 1 = 1
  EXPECT_DOUBLE_EQ(r.model.best_eval.score.stats.mean, (62.5 + 75) / 2);
  EXPECT_DOUBLE_EQ(*r.model.final_eval.relative_to_human, 62.5 / 93.6);
  EXPECT_EQ(r.model.final_eval.top_seed, 2u);
  ASSERT_EQ(r.model.final_eval.metrics.size(), 1u);
  EXPECT_EQ(r.model.final_eval.metrics[0].name, "accuracy");
  EXPECT_EQ(r.model.final_eval.metrics[0].values, (std::vector<double>{0.5, 0.75}));  // as reported: fractions
  EXPECT_FALSE(r.scratch.has_value());

  const TaskRow& s = table.rows[1];
  EXPECT_EQ(s.model.final_eval.score.values, (std::vector<double>{70, 80}));
  EXPECT_DOUBLE_EQ(s.model.final_eval.score.stats.mean, 75);
  EXPECT_DOUBLE_EQ(s.model.final_eval.score.stats.median, 75);
  EXPECT_DOUBLE_EQ(s.model.final_eval.score.stats.min, 70);
  EXPECT_DOUBLE_EQ(s.model.final_eval.score.stats.max, 80);
  EXPECT_DOUBLE_EQ(*s.human_score, (92.7 + 92.6) / 2);
  EXPECT_DOUBLE_EQ(*s.model.final_eval.relative_to_human, 75 / 92.65);
  ASSERT_EQ(s.model.final_eval.metrics.size(), 2u);
  EXPECT_DOUBLE_EQ(s.model.final_eval.metrics[1].stats.mean, 0.65);

  ASSERT_TRUE(table.glue.has_value());
  EXPECT_EQ(table.glue->tasks, (std::vector<std::string>{"STS-B", "RTE"}));  // GLUE's order
  EXPECT_EQ(table.glue->missing.size(), 7u);
  EXPECT_DOUBLE_EQ(table.glue->model.final_score, (62.5 + 75) / 2);
  EXPECT_DOUBLE_EQ(table.glue->model.best_score, (68.75 + 75) / 2);
  EXPECT_DOUBLE_EQ(table.glue->human_score, (93.6 + 92.65) / 2);
  EXPECT_FALSE(table.glue->scratch.has_value());
}

TEST(EvaluationTableTest, TwoMetricTasksMapTheFinetunesNames) {
  // MRPC: (F1 0.8 + accuracy 0.7) / 2; MNLI: matched "accuracy", mismatched "accuracy_mismatched";
  // CoLA: "matthews_corrcoef". The order the run reports them in does not matter.
  const EvaluationTable table =
      BuildEvaluationTable({Runs("MRPC", {{{"f1", 0.8}, {"accuracy", 0.7}}}),
                            Runs("MNLI", {{{"accuracy", 0.84}, {"accuracy_mismatched", 0.82}}}),
                            Runs("CoLA", {{{"matthews_corrcoef", 0.5}}})},
                           {})
          .value();
  EXPECT_DOUBLE_EQ(table.rows[0].model.final_eval.score.stats.mean, 75);
  EXPECT_DOUBLE_EQ(table.rows[1].model.final_eval.score.stats.mean, 83);
  EXPECT_DOUBLE_EQ(table.rows[2].model.final_eval.score.stats.mean, 50);
  ASSERT_TRUE(table.glue.has_value());
  EXPECT_TRUE(std::isnan(table.rows[0].model.final_eval.score.stats.standard_deviation));  // one seed
  EXPECT_DOUBLE_EQ(*table.rows[0].model.final_eval.relative_to_human, 75 / ((86.3 + 80.8) / 2));
  EXPECT_DOUBLE_EQ(table.glue->model.final_score, (75 + 83 + 50) / 3.0);
}

// Also: the table finds every GLUE task's metrics under the names the fine-tune reports them.
TEST(EvaluationTableTest, AllNineTasksAtTheHumanBaselineGiveTheGlueScore) {
  std::vector<TaskRuns> all;
  for (GlueTask task : kGlueTasks) {
    const std::vector<double> human = GlueHumanBaseline(task);
    Metrics metrics;
    const std::vector<std::string> names = FinetuneMetricNames(task);
    for (size_t i = 0; i < names.size(); ++i) metrics.push_back({names[i], human[i] / 100});
    all.push_back(Runs(std::string(GlueTaskName(task)), {metrics}));
  }
  const EvaluationTable table = BuildEvaluationTable(all, {}).value();
  ASSERT_TRUE(table.glue.has_value());
  EXPECT_TRUE(table.glue->missing.empty());
  EXPECT_NEAR(table.glue->model.final_score, 87.05, 1e-9);  // the leaderboard's 87.1
  EXPECT_NEAR(table.glue->human_score, 87.05, 1e-9);
  for (const TaskRow& row : table.rows) EXPECT_NEAR(*row.model.final_eval.relative_to_human, 1, 1e-12) << row.task;
}

TEST(EvaluationTableTest, ScratchColumns) {
  const TaskRuns init = Runs("SST-2", {{{"accuracy", 0.8}}, {{"accuracy", 0.9}}});
  const TaskRuns scratch = Runs("SST-2", {{{"accuracy", 0.6}}, {{"accuracy", 0.7}}});
  const EvaluationTable table = BuildEvaluationTable({init}, {scratch}).value();
  ASSERT_TRUE(table.rows[0].scratch.has_value());
  ASSERT_TRUE(table.glue.has_value());
  EXPECT_DOUBLE_EQ(table.rows[0].scratch->final_eval.score.stats.mean, 65);
  EXPECT_DOUBLE_EQ(*table.rows[0].scratch->final_eval.relative_to_human, 65 / 97.8);
  ASSERT_TRUE(table.glue->scratch.has_value());
  EXPECT_DOUBLE_EQ(table.glue->model.final_score, 85);
  EXPECT_DOUBLE_EQ(table.glue->scratch->final_score, 65);

  const nlohmann::json j = EvaluationTableJson(table);
  EXPECT_DOUBLE_EQ(j["tasks"][0]["difference"]["final"].get<double>(), 20);
  EXPECT_DOUBLE_EQ(j["glue"]["difference"]["best"].get<double>(), 20);
  EXPECT_EQ(j["tasks"][0]["scratch"]["final"]["metrics"]["accuracy"]["values"], nlohmann::json({0.6, 0.7}));
  const std::string markdown = EvaluationTableMarkdown(table);
  EXPECT_NE(markdown.find("| scratch final | scratch best | Δ final | Δ best |"), std::string::npos) << markdown;
  EXPECT_NE(markdown.find("| SST-2 | 1, 2 | 85.00 ± 7.07 | 85.00 ± 7.07 | 97.80 | 0.87 | 65.00 ± 7.07 | 65.00 ± 7.07 | "
                          "+20.00 | +20.00 |"),
            std::string::npos)
      << markdown;
}

TEST(EvaluationTableTest, OtherTasksScoreTheirPrimaryMetric) {
  // POS accuracy is a fraction, SQuAD's F1 (first) and exact match are percentages.
  const EvaluationTable table = BuildEvaluationTable({Runs("pos", {{{"accuracy", 0.9}}, {{"accuracy", 0.8}}}),
                                                      Runs("squad", {{{"f1", 80}, {"exact_match", 70}}})},
                                                     {})
                                    .value();
  EXPECT_DOUBLE_EQ(table.rows[0].model.final_eval.score.stats.mean, 85);
  EXPECT_DOUBLE_EQ(table.rows[1].model.final_eval.score.stats.mean, 80);
  EXPECT_FALSE(table.rows[0].human_score.has_value());
  EXPECT_FALSE(table.rows[1].model.final_eval.relative_to_human.has_value());
  EXPECT_FALSE(table.glue.has_value());
  EXPECT_FALSE(EvaluationTableJson(table).contains("glue"));
}

TEST(EvaluationTableTest, DegenerateRunsAreNamedAndKept) {
  TaskRuns cola =
      Runs("CoLA", {{{"matthews_corrcoef", 0}}, {{"matthews_corrcoef", 0.2}}, {{"matthews_corrcoef", 0.2}}});
  cola.final_evals[0].degenerate = true;
  const EvaluationTable table = BuildEvaluationTable({cola}, {}).value();
  const EvaluationCell& final_eval = table.rows[0].model.final_eval;
  EXPECT_EQ(final_eval.degenerate_seeds, (std::vector<uint64_t>{1}));
  EXPECT_TRUE(table.rows[0].model.best_eval.degenerate_seeds.empty());
  EXPECT_DOUBLE_EQ(final_eval.score.stats.mean, 40.0 / 3);  // the degenerate seed counts
  EXPECT_EQ(final_eval.top_seed, 2u);                       // the first of the best
  const std::string markdown = EvaluationTableMarkdown(table);
  EXPECT_NE(markdown.find("- CoLA, init, final: seeds 1"), std::string::npos) << markdown;
  EXPECT_NE(markdown.find("partial average over 1 of the 9 GLUE tasks"), std::string::npos) << markdown;
  EXPECT_NE(markdown.find("| CoLA | init | final | matthews_corrcoef | 13.33 ± 11.55 | 20.00 | 0.00 | 20.00 |"),
            std::string::npos)
      << markdown;
  const nlohmann::json j = EvaluationTableJson(table);
  EXPECT_EQ(j["tasks"][0]["init"]["final"]["degenerate_seeds"], nlohmann::json({1}));
  EXPECT_TRUE(j["glue"]["partial"].get<bool>());
}

TEST(EvaluationTableTest, OneSeedHasNoStandardDeviationInJson) {
  const nlohmann::json j = EvaluationTableJson(BuildEvaluationTable({Runs("RTE", {{{"accuracy", 0.5}}})}, {}).value());
  EXPECT_TRUE(j["tasks"][0]["init"]["final"]["score"]["std"].is_null());
  EXPECT_TRUE(j["tasks"][0]["init"]["final"]["metrics"]["accuracy"]["std"].is_null());
}

TEST(EvaluationTableTest, Errors) {
  auto error = [](absl::Span<const TaskRuns> model, absl::Span<const TaskRuns> scratch) {
    absl::StatusOr<EvaluationTable> table = BuildEvaluationTable(model, scratch);
    EXPECT_FALSE(table.ok());
    return table.ok() ? std::string() : std::string(table.status().message());
  };
  const TaskRuns rte = Runs("RTE", {{{"accuracy", 0.5}}, {{"accuracy", 0.6}}});
  EXPECT_NE(error({}, {}).find("no task"), std::string::npos);
  EXPECT_NE(error({rte, Runs("rte", {{{"accuracy", 0.5}}})}, {}).find("RTE is given twice"), std::string::npos);
  EXPECT_NE(error({Runs("RTE", {})}, {}).find("RTE (init): no seed"), std::string::npos);
  EXPECT_NE(error({Runs("MRPC", {{{"accuracy", 0.5}}})}, {}).find("\"f1\""), std::string::npos);
  EXPECT_NE(error({Runs("RTE", {{{"accuracy", 0.5}}, {{"f1", 0.6}}})}, {}).find("other metrics"), std::string::npos);
  EXPECT_NE(error({Runs("RTE", {{{"accuracy", NAN}}})}, {}).find("non-finite"), std::string::npos);
  EXPECT_NE(error({rte}, {Runs("RTE", {{{"accuracy", 0.5}}})}).find("do not match"), std::string::npos);
  EXPECT_NE(error({rte}, {Runs("SST-2", {{{"accuracy", 0.5}}, {{"accuracy", 0.6}}})}).find("do not match"),
            std::string::npos);
  TaskRuns shifted = rte;
  shifted.best_evals[1].seed = 7;
  EXPECT_NE(error({shifted}, {}).find("best evaluations are of seeds 1, 7"), std::string::npos);
}

}  // namespace
}  // namespace cloze::eval
