// MergeParts (prepare_part.h): the parts checked against each other, then dealt into shards.
#include <filesystem>
#include <map>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "data/dataset_writer.h"
#include "data/prepare_part.h"
#include "data/prepare_steps.h"
#include "data/shard_format.h"
#include "data/shard_reader.h"
#include "util/file_error.h"
#include "util/text_proto.h"

namespace cloze::data {
namespace {

namespace fs = std::filesystem;

struct Part {
  PreparedPart manifest;
  std::string folder;
  std::unique_ptr<ShardReader> examples;
};

std::string PartName(int part, int parts) { return absl::StrCat("part ", part, " of ", parts); }

// What is in DIR/parts, for a message about a part that is not there.
std::string ListParts(const std::string& parts_dir) {
  std::vector<std::string> names;
  std::error_code error;
  for (const fs::directory_entry& entry : fs::directory_iterator(parts_dir, error)) {
    names.push_back(entry.path().filename().string());
  }
  std::sort(names.begin(), names.end());
  if (names.empty()) return absl::StrCat(parts_dir, " holds nothing");
  return absl::StrCat(parts_dir, " holds ", absl::StrJoin(names, ", "));
}

absl::StatusOr<Part> OpenPart(const std::string& parts_dir, int index, int parts) {
  const std::string name = PartFolderName(index, parts);
  const std::string rerun = absl::StrCat("; run `cloze prepare --part=", index, " --parts=", parts, "` again");
  Part part;
  part.folder = absl::StrCat(parts_dir, "/", name);
  std::error_code error;
  if (!fs::is_directory(part.folder, error)) {
    bool partial = false;
    for (const fs::directory_entry& entry : fs::directory_iterator(parts_dir, error)) {
      partial |= entry.path().filename().string().rfind(absl::StrCat(".", name, ".partial"), 0) == 0;
    }
    return absl::FailedPreconditionError(absl::StrCat(
        PartName(index, parts), partial ? " is unfinished (only a partial folder: still running, or it died)"
                                        : absl::StrCat(" is missing (", ListParts(parts_dir), ")"),
        rerun));
  }
  const std::string manifest_path = absl::StrCat(part.folder, "/", kPartManifest);
  if (absl::Status s = util::MergeTextProtoFile(manifest_path, &part.manifest); !s.ok()) {
    return absl::FailedPreconditionError(
        absl::StrCat(PartName(index, parts), " is unfinished or damaged: ", s.message(), rerun));
  }
  if (part.manifest.part_index() != index || part.manifest.part_count() != parts) {
    return absl::FailedPreconditionError(absl::StrCat(
        PartName(index, parts), " is foreign: ", manifest_path, " says part ", part.manifest.part_index(), " of ",
        part.manifest.part_count()));
  }
  absl::StatusOr<std::unique_ptr<ShardReader>> reader = ShardReader::Open(part.folder + "/" + ShardDirName(0, 1));
  if (!reader.ok()) {
    return absl::FailedPreconditionError(
        absl::StrCat(PartName(index, parts), " is damaged: ", reader.status().message(), rerun));
  }
  const ShardMetadata& shard = (*reader)->metadata();
  if (shard.example_count() != part.manifest.example_count() ||
      shard.content_sha256() != part.manifest.content_sha256()) {
    return absl::FailedPreconditionError(absl::StrCat(
        PartName(index, parts), " is damaged: its shard holds ", shard.example_count(), " examples (SHA-256 ",
        shard.content_sha256(), "), ", manifest_path, " says ", part.manifest.example_count(), " (",
        part.manifest.content_sha256(), ")", rerun));
  }
  part.examples = *std::move(reader);
  return part;
}

// What parts of one preparation share; "" when they agree, else how `part` differs.
std::string Difference(const PreparedPart& part, const PreparedPart& reference) {
  if (part.input_fingerprint() != reference.input_fingerprint() || part.unit_count() != reference.unit_count()) {
    return absl::StrCat("another input (files, sizes, unit size or input format: fingerprint ",
                        part.input_fingerprint(), ", the others' ", reference.input_fingerprint(), ")");
  }
  if (part.tokenizer_fingerprint() != reference.tokenizer_fingerprint() ||
      part.vocab_size() != reference.vocab_size()) {
    return absl::StrCat("another tokenizer (", part.tokenizer_fingerprint(), ", the others' ",
                        reference.tokenizer_fingerprint(), ")");
  }
  if (part.data_config().SerializeAsString() != reference.data_config().SerializeAsString()) {
    return absl::StrCat("another DataConfig (", part.data_config().ShortDebugString(), "; the others' ",
                        reference.data_config().ShortDebugString(), ")");
  }
  return "";
}

// The parts must be one preparation's: the one most of them agree with is the reference, so
// the message names the odd one out.
absl::Status CheckParts(const std::vector<Part>& parts) {
  std::map<std::string, int> votes;
  auto identity = [](const PreparedPart& m) {
    return absl::StrCat(m.input_fingerprint(), "/", m.unit_count(), "/", m.tokenizer_fingerprint(), "/",
                        m.vocab_size(), "/", m.data_config().SerializeAsString());
  };
  for (const Part& p : parts) ++votes[identity(p.manifest)];
  size_t reference = 0;
  for (size_t i = 0; i < parts.size(); ++i) {
    if (votes[identity(parts[i].manifest)] > votes[identity(parts[reference].manifest)]) reference = i;
  }
  const int count = static_cast<int>(parts.size());
  int64_t next_unit = 0;
  for (int i = 0; i < count; ++i) {
    const PreparedPart& m = parts[i].manifest;
    const std::string difference = Difference(m, parts[reference].manifest);
    if (!difference.empty()) {
      return absl::FailedPreconditionError(
          absl::StrCat(PartName(i, count), " (", parts[i].folder, ") is foreign: made from ", difference));
    }
    if (m.first_unit() != next_unit || m.end_unit() < m.first_unit() || m.end_unit() > m.unit_count()) {
      return absl::FailedPreconditionError(absl::StrCat(PartName(i, count), " (", parts[i].folder,
                                                        ") is foreign: it holds units [", m.first_unit(), ", ",
                                                        m.end_unit(), "), the parts before end at ", next_unit));
    }
    next_unit = m.end_unit();
  }
  if (next_unit != parts[reference].manifest.unit_count()) {
    return absl::FailedPreconditionError(absl::StrCat("the parts hold units [0, ", next_unit, ") of ",
                                                      parts[reference].manifest.unit_count()));
  }
  return absl::OkStatus();
}

// A merge writes into the folder of its parts, never over a dataset. What a failed merge left
// (the tokenizer copy, partial shards) is taken over.
absl::Status CheckMergeOutput(const std::string& output) {
  std::error_code error;
  for (const fs::directory_entry& entry : fs::directory_iterator(output, error)) {
    const std::string name = entry.path().filename().string();
    if (ParseShardDirName(name)) {
      return absl::AlreadyExistsError(
          absl::StrCat(output, ": already holds ", name, "; the parts were merged before (or it is another dataset)"));
    }
  }
  if (error) return util::FileError(output, "list", error.value());
  return absl::OkStatus();
}

absl::Status CopyTokenizer(const Part& part, const std::string& output) {
  const std::string file = SplitTokenizerSpec(part.manifest.data_config().tokenizer()).second;
  std::error_code error;
  fs::copy_file(part.folder + "/" + file, output + "/" + file, fs::copy_options::overwrite_existing, error);
  if (error) return util::FileError(output + "/" + file, "cannot copy the tokenizer", error.value());
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<MergeResult> MergeParts(const std::string& output, int parts) {
  if (parts < 1 || parts > kMaxShardCount) {
    return absl::InvalidArgumentError(absl::StrCat("--parts: ", parts, " is outside [1, ", kMaxShardCount, "]"));
  }
  const std::string parts_dir = absl::StrCat(output, "/", kPartsFolder);
  std::error_code error;
  if (!fs::is_directory(parts_dir, error)) {
    return absl::NotFoundError(absl::StrCat(parts_dir, ": no such folder; run the parts first "
                                                       "(cloze prepare --part=I --parts=N --output=", output, ")"));
  }
  if (absl::Status s = CheckMergeOutput(output); !s.ok()) return s;
  std::vector<Part> opened;
  for (int i = 0; i < parts; ++i) {
    absl::StatusOr<Part> part = OpenPart(parts_dir, i, parts);
    if (!part.ok()) return part.status();
    opened.push_back(*std::move(part));
  }
  if (absl::Status s = CheckParts(opened); !s.ok()) return s;

  MergeResult result;
  const PreparedPart& first = opened.front().manifest;
  result.config = first.data_config();
  for (const Part& p : opened) {
    result.examples += p.manifest.example_count();
    result.tokens += p.manifest.tokens();
    result.sentence_label_1 += p.manifest.sentence_label_1();
    result.input_files += p.manifest.input_files();
    result.input_bytes += p.manifest.input_bytes();
    result.corpus.set_documents(result.corpus.documents() + p.manifest.corpus().documents());
    result.corpus.set_sentences(result.corpus.sentences() + p.manifest.corpus().sentences());
    result.corpus.set_one_sentence_chunks(result.corpus.one_sentence_chunks() +
                                          p.manifest.corpus().one_sentence_chunks());
  }
  if (result.examples == 0) {
    return absl::InvalidArgumentError(absl::StrCat("no examples in the ", parts, " parts of ", output, ": ",
                                                   result.corpus.documents(), " documents, ",
                                                   result.corpus.sentences(), " sentences; nothing merged"));
  }
  if (absl::Status s = CopyTokenizer(opened.front(), output); !s.ok()) return s;
  ShardSpec spec;
  spec.shard_count = result.config.shards();
  spec.tokenizer_fingerprint = first.tokenizer_fingerprint();
  spec.data_config = result.config;
  spec.vocab_size = first.vocab_size();
  absl::StatusOr<std::unique_ptr<DatasetWriter>> writer = DatasetWriter::Create(output, spec);
  if (!writer.ok()) return writer.status();
  Example example;
  for (const Part& p : opened) {
    absl::Status scanned = p.examples->ScanContent([&](int64_t index, absl::string_view value) {
      if (!example.ParseFromArray(value.data(), static_cast<int>(value.size()))) {
        return absl::DataLossError(absl::StrCat(p.examples->path(), ": example ", index, " does not parse"));
      }
      return (*writer)->Add(example);
    });
    if (!scanned.ok()) return scanned;
  }
  absl::StatusOr<std::vector<ShardMetadata>> shards = (*writer)->Finish(result.corpus);
  if (!shards.ok()) return shards.status();
  result.shards = *std::move(shards);
  opened.clear();  // close the parts' databases before removing them
  fs::remove_all(parts_dir, error);
  if (error) return util::FileError(parts_dir, "cannot remove the merged parts", error.value());
  return result;
}

}  // namespace cloze::data
