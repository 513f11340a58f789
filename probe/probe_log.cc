#include "probe/probe_log.h"

#include <filesystem>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "data/read_file.h"
#include "nlohmann/json.hpp"
#include "util/atomic_file.h"

namespace cloze::probe {
namespace {

std::string JsonLine(const ProbeRecord& r) {
  nlohmann::ordered_json line;
  line["step"] = r.step;
  line["checkpoint"] = r.checkpoint;
  line["probe"] = r.probe;
  line["layer"] = r.layer.has_value() ? nlohmann::ordered_json(*r.layer) : nlohmann::ordered_json(nullptr);
  line["class"] = r.class_name;
  line["accuracy"] = r.accuracy;
  line["count"] = r.count;
  line["seconds"] = r.seconds;
  return line.dump() + "\n";
}

}  // namespace

std::vector<ProbeRecord> RecordsOf(const ClassAccuracy& accuracy, const ProbeRecord& common) {
  std::vector<ProbeRecord> records;
  auto add = [&](const std::string& name, const Tally& tally) {
    ProbeRecord r = common;
    r.class_name = name, r.accuracy = tally.accuracy(), r.count = tally.count;
    records.push_back(std::move(r));
  };
  for (const auto& [name, tally] : accuracy.by_class) add(name, tally);
  add("overall", accuracy.overall);
  return records;
}

absl::StatusOr<std::set<std::pair<std::string, std::string>>> ReadDoneProbes(const std::string& path) {
  std::set<std::pair<std::string, std::string>> done;
  if (!std::filesystem::exists(path)) return done;
  absl::StatusOr<std::string> text = data::ReadFile(path);
  if (!text.ok()) return text.status();
  std::istringstream lines(*text);
  int64_t number = 0;
  for (std::string line; std::getline(lines, line);) {
    ++number;
    if (line.empty()) continue;
    const nlohmann::json record = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (!record.is_object() || !record.contains("checkpoint") || !record["checkpoint"].is_string() ||
        !record.contains("probe") || !record["probe"].is_string()) {
      return absl::DataLossError(absl::StrCat(path, ":", number, ": not a probe record (JSON with \"checkpoint\" and \"probe\")"));
    }
    done.emplace(record["checkpoint"].get<std::string>(), record["probe"].get<std::string>());
  }
  return done;
}

absl::Status AppendRecords(const std::string& path, const std::vector<ProbeRecord>& records) {
  std::string text;
  if (std::filesystem::exists(path)) {
    absl::StatusOr<std::string> existing = data::ReadFile(path);
    if (!existing.ok()) return existing.status();
    text = *std::move(existing);
    if (!text.empty() && text.back() != '\n') text += '\n';
  }
  for (const ProbeRecord& r : records) text += JsonLine(r);
  return util::WriteTextFileAtomically(path, text);
}

}  // namespace cloze::probe
