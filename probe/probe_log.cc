#include "probe/probe_log.h"

#include <filesystem>
#include <functional>
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

namespace {

// Calls `read` on each non-empty line of the file parsed as JSON (discarded when it is not
// JSON), with the line's number; stops at the first error. A missing file has no lines.
absl::Status ForEachLine(const std::string& path,
                         const std::function<absl::Status(const nlohmann::json&, int64_t)>& read) {
  if (!std::filesystem::exists(path)) return absl::OkStatus();
  absl::StatusOr<std::string> text = data::ReadFile(path);
  if (!text.ok()) return text.status();
  std::istringstream lines(*text);
  int64_t number = 0;
  for (std::string line; std::getline(lines, line);) {
    ++number;
    if (line.empty()) continue;
    if (absl::Status s = read(nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false), number); !s.ok()) {
      return s;
    }
  }
  return absl::OkStatus();
}

bool HasString(const nlohmann::json& record, const char* key) {
  return record.contains(key) && record[key].is_string();
}

bool HasNumber(const nlohmann::json& record, const char* key) {
  return record.contains(key) && record[key].is_number();
}

}  // namespace

absl::StatusOr<std::set<std::pair<std::string, std::string>>> ReadDoneProbes(const std::string& path) {
  std::set<std::pair<std::string, std::string>> done;
  absl::Status status = ForEachLine(path, [&](const nlohmann::json& record, int64_t number) {
    if (!record.is_object() || !HasString(record, "checkpoint") || !HasString(record, "probe")) {
      return absl::DataLossError(absl::StrCat(path, ":", number, ": not a probe record (JSON with \"checkpoint\" and \"probe\")"));
    }
    done.emplace(record["checkpoint"].get<std::string>(), record["probe"].get<std::string>());
    return absl::OkStatus();
  });
  if (!status.ok()) return status;
  return done;
}

absl::StatusOr<std::vector<ProbeRecord>> ReadProbeRecords(const std::string& path) {
  std::vector<ProbeRecord> records;
  absl::Status status = ForEachLine(path, [&](const nlohmann::json& j, int64_t number) {
    const bool layer_ok = j.is_object() && j.contains("layer") && (j["layer"].is_null() || j["layer"].is_number_integer());
    if (!layer_ok || !HasNumber(j, "step") || !HasString(j, "checkpoint") || !HasString(j, "probe") ||
        !HasString(j, "class") || !HasNumber(j, "accuracy") || !HasNumber(j, "count") || !HasNumber(j, "seconds")) {
      return absl::DataLossError(absl::StrCat(path, ":", number, ": not a probe record (see probe/probe_log.h)"));
    }
    ProbeRecord r;
    r.step = j["step"].get<int64_t>();
    r.checkpoint = j["checkpoint"].get<std::string>();
    r.probe = j["probe"].get<std::string>();
    if (!j["layer"].is_null()) r.layer = j["layer"].get<int>();
    r.class_name = j["class"].get<std::string>();
    r.accuracy = j["accuracy"].get<double>();
    r.count = j["count"].get<int64_t>();
    r.seconds = j["seconds"].get<double>();
    records.push_back(std::move(r));
    return absl::OkStatus();
  });
  if (!status.ok()) return status;
  return records;
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
