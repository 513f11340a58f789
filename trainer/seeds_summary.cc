#include "trainer/seeds_summary.h"

#include <cmath>
#include <filesystem>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "data/read_file.h"
#include "eval/seed_stats.h"
#include "nlohmann/json.hpp"

namespace cloze {
namespace {

// The fields of an evaluation that are not metrics (TaskEvaluationJson writes them).
bool IsMetric(const std::string& key) { return key != "step" && key != "loss" && key != "degenerate"; }

absl::StatusOr<SeedEvaluation> ParseEvaluation(const nlohmann::json& j, const std::string& path,
                                               const std::string& field) {
  if (!j.is_object()) return absl::InvalidArgumentError(absl::StrCat(path, ": field \"", field, "\" is not an object"));
  SeedEvaluation e;
  for (auto it = j.begin(); it != j.end(); ++it) {
    const std::string where = absl::StrCat(path, ": field \"", field, ".", it.key(), "\"");
    if (it.key() == "degenerate") {
      if (!it->is_boolean()) return absl::InvalidArgumentError(absl::StrCat(where, " is not true/false"));
      e.degenerate = it->get<bool>();
    } else if (it.key() == "step") {
      if (!it->is_number_integer()) return absl::InvalidArgumentError(absl::StrCat(where, " is not an integer"));
      e.step = it->get<int64_t>();
    } else if (IsMetric(it.key())) {
      if (!it->is_number()) return absl::InvalidArgumentError(absl::StrCat(where, " is not a number"));
      e.metrics.emplace_back(it.key(), it->get<double>());
    }
  }
  return e;
}

// nlohmann::json keeps an object's keys sorted; the task's order is eval_results.json's,
// which TaskEvaluationJson writes in the task's order: recover it from the text.
void OrderAsInText(const std::string& text, std::vector<std::pair<std::string, double>>& metrics) {
  auto position = [&](const std::string& name) { return text.find(absl::StrCat("\"", name, "\":")); };
  std::stable_sort(metrics.begin(), metrics.end(),
                   [&](const auto& a, const auto& b) { return position(a.first) < position(b.first); });
}

std::string Number(double v) { return absl::StrFormat("%.4f", v); }

struct KindSummary {
  std::vector<std::pair<std::string, eval::SeedSummary>> metrics;
  std::vector<std::vector<double>> values;  // per metric, per run
  std::vector<uint64_t> degenerate_seeds;
};

absl::StatusOr<KindSummary> Summarize(absl::Span<const SeedRunResult> runs, bool best) {
  if (runs.empty()) return absl::InvalidArgumentError("seeds summary: no runs");
  const char* kind = best ? "best" : "final";
  auto eval_of = [&](const SeedRunResult& r) -> const SeedEvaluation& { return best ? r.best_eval : r.final_eval; };
  KindSummary out;
  const SeedEvaluation& first = eval_of(runs.front());
  for (const SeedRunResult& run : runs) {
    if (run.task != runs.front().task) {
      return absl::InvalidArgumentError(absl::StrCat("seeds summary: seed ", run.seed, " ran task ", run.task,
                                                     ", seed ", runs.front().seed, " ran ", runs.front().task));
    }
    const SeedEvaluation& e = eval_of(run);
    if (e.metrics.size() != first.metrics.size()) {
      return absl::InvalidArgumentError(absl::StrCat("seeds summary: seed ", run.seed, " reports ", e.metrics.size(),
                                                     " ", kind, " metrics, seed ", runs.front().seed, " ",
                                                     first.metrics.size()));
    }
    if (e.degenerate) out.degenerate_seeds.push_back(run.seed);
  }
  for (size_t m = 0; m < first.metrics.size(); ++m) {
    const std::string& name = first.metrics[m].first;
    std::vector<double> values;
    for (const SeedRunResult& run : runs) {
      const auto& metric = eval_of(run).metrics[m];
      if (metric.first != name) {
        return absl::InvalidArgumentError(absl::StrCat("seeds summary: seed ", run.seed, " reports ", kind, " metric ",
                                                       metric.first, " where seed ", runs.front().seed, " reports ",
                                                       name));
      }
      values.push_back(metric.second);
    }
    absl::StatusOr<eval::SeedSummary> s = eval::SummarizeSeeds(values);
    if (!s.ok()) return absl::InvalidArgumentError(absl::StrCat(kind, " ", name, ": ", s.status().message()));
    out.metrics.emplace_back(name, *s);
    out.values.push_back(std::move(values));
  }
  return out;
}

nlohmann::json KindJson(const KindSummary& k) {
  nlohmann::json metrics = nlohmann::json::object();
  for (size_t m = 0; m < k.metrics.size(); ++m) {
    const eval::SeedSummary& s = k.metrics[m].second;
    nlohmann::json j;
    j["mean"] = s.mean;
    j["median"] = s.median;
    j["std"] = std::isfinite(s.standard_deviation) ? nlohmann::json(s.standard_deviation) : nlohmann::json(nullptr);
    j["min"] = s.min;
    j["max"] = s.max;
    j["values"] = k.values[m];
    metrics[k.metrics[m].first] = j;
  }
  nlohmann::json out;
  out["metrics"] = metrics;
  out["degenerate_seeds"] = k.degenerate_seeds;
  return out;
}

}  // namespace

std::string SeedRunDir(const std::string& run_dir, uint64_t seed) { return absl::StrCat(run_dir, "/seed-", seed); }

absl::StatusOr<SeedRunResult> ReadSeedRunResult(const std::string& seed_run_dir, uint64_t seed) {
  const std::string path = seed_run_dir + "/eval_results.json";
  if (!std::filesystem::exists(path)) return absl::NotFoundError(absl::StrCat(path, ": missing"));
  absl::StatusOr<std::string> text = data::ReadFile(path);
  if (!text.ok()) return text.status();
  const nlohmann::json j = nlohmann::json::parse(*text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) return absl::InvalidArgumentError(absl::StrCat(path, ": not a JSON object"));
  SeedRunResult r;
  r.seed = seed;
  for (const char* field : {"task", "primary_metric"}) {
    if (!j.contains(field) || !j[field].is_string()) {
      return absl::InvalidArgumentError(absl::StrCat(path, ": field \"", field, "\" is missing or not a string"));
    }
  }
  r.task = j["task"].get<std::string>();
  r.primary_metric = j["primary_metric"].get<std::string>();
  if (!j.contains("finished") || !j["finished"].is_boolean()) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": field \"finished\" is missing or not true/false"));
  }
  r.finished = j["finished"].get<bool>();
  for (const char* field : {"final", "best"}) {
    if (!j.contains(field)) return absl::InvalidArgumentError(absl::StrCat(path, ": field \"", field, "\" is missing"));
    absl::StatusOr<SeedEvaluation> e = ParseEvaluation(j[field], path, field);
    if (!e.ok()) return e.status();
    OrderAsInText(*text, e->metrics);
    (std::string(field) == "final" ? r.final_eval : r.best_eval) = *std::move(e);
  }
  return r;
}

absl::StatusOr<std::string> SeedsSummaryJson(absl::Span<const SeedRunResult> runs) {
  absl::StatusOr<KindSummary> final_summary = Summarize(runs, /*best=*/false);
  if (!final_summary.ok()) return final_summary.status();
  absl::StatusOr<KindSummary> best_summary = Summarize(runs, /*best=*/true);
  if (!best_summary.ok()) return best_summary.status();
  nlohmann::json j;
  j["task"] = runs.front().task;
  j["primary_metric"] = runs.front().primary_metric;
  std::vector<uint64_t> seeds;
  for (const SeedRunResult& r : runs) seeds.push_back(r.seed);
  j["seeds"] = seeds;
  j["final"] = KindJson(*final_summary);
  j["best"] = KindJson(*best_summary);
  return j.dump(2) + "\n";
}

absl::StatusOr<std::string> SeedsSummaryTable(absl::Span<const SeedRunResult> runs) {
  std::string table = absl::StrFormat("%s over %d seeds:\n  %-24s %-18s %8s %8s %8s\n", runs.empty() ? "" : runs.front().task,
                                      runs.size(), "metric", "mean ± std", "median", "min", "max");
  for (const bool best : {false, true}) {
    absl::StatusOr<KindSummary> k = Summarize(runs, best);
    if (!k.ok()) return k.status();
    for (const auto& [name, s] : k->metrics) {
      const std::string spread = std::isfinite(s.standard_deviation) ? Number(s.standard_deviation) : "n/a";
      absl::StrAppendFormat(&table, "  %-24s %-18s %8s %8s %8s\n", absl::StrCat(best ? "best " : "final ", name),
                            absl::StrCat(Number(s.mean), " ± ", spread), Number(s.median), Number(s.min),
                            Number(s.max));
    }
    if (!k->degenerate_seeds.empty()) {
      absl::StrAppend(&table, "  degenerate (", best ? "best" : "final", "): seeds");
      for (uint64_t seed : k->degenerate_seeds) absl::StrAppend(&table, " ", seed);
      absl::StrAppend(&table, "\n");
    }
  }
  return table;
}

}  // namespace cloze
