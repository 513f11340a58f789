// Writing and loading checkpoints on the real file system: round trips, the directory
// names, and every kind of damaged checkpoint being skipped for an older one.
#include "checkpoint/checkpoint.h"

#include <filesystem>
#include <fstream>

#include "absl/strings/match.h"
#include "absl/strings/str_join.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "checkpoint/checkpoint_testing.h"
#include "checkpoint/safetensors.h"

namespace cloze {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

void WriteAll(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << bytes;
}

void ExpectSameContents(const CheckpointContents& got, const CheckpointContents& want) {
  EXPECT_EQ(got.step, want.step);
  EXPECT_EQ(got.optimizer_step, want.optimizer_step);
  EXPECT_TRUE(BitwiseEqual(got.parameters, want.parameters));
  EXPECT_TRUE(BitwiseEqual(got.exp_avg, want.exp_avg));
  EXPECT_TRUE(BitwiseEqual(got.exp_avg_sq, want.exp_avg_sq));
  EXPECT_EQ(got.manifest.train_config().SerializeAsString(), want.manifest.train_config().SerializeAsString());
  EXPECT_EQ(got.manifest.data_cursor().SerializeAsString(), want.manifest.data_cursor().SerializeAsString());
  EXPECT_EQ(got.manifest.trainer_state().SerializeAsString(), want.manifest.trainer_state().SerializeAsString());
}

// A run directory with checkpoints of steps 100 and 200, and what they hold.
class DamagedCheckpointTest : public ::testing::Test {
 protected:
  void SetUp() override {
    run_ = FreshTestDir(::testing::UnitTest::GetInstance()->current_test_info()->name());
    for (int64_t step : {100, 200}) {
      written_[step] = TestContents(layout_, step, static_cast<uint32_t>(step));
      ASSERT_TRUE(WriteCheckpoint(run_, written_[step], layout_).ok());
    }
    options_.warn = [this](const std::string& line) { warnings_.push_back(line); };
  }

  std::string Dir(int64_t step) const { return run_ + "/checkpoints/" + CheckpointDirName(step); }

  // Loading falls back to step 100 with one warning about step 200 that contains `reason`.
  void ExpectFallbackTo100(const std::string& reason) {
    absl::StatusOr<LoadedCheckpoint> loaded = LoadLatestValidCheckpoint(run_, layout_, options_);
    ASSERT_TRUE(loaded.ok()) << loaded.status();
    EXPECT_EQ(loaded->path, Dir(100));
    ExpectSameContents(loaded->contents, written_[100]);
    ASSERT_EQ(warnings_.size(), 1u) << absl::StrJoin(warnings_, "\n");
    EXPECT_THAT(warnings_[0], HasSubstr(Dir(200)));
    EXPECT_THAT(warnings_[0], HasSubstr(reason));
    absl::StatusOr<CheckpointContents> direct = LoadCheckpoint(Dir(200), layout_);
    EXPECT_TRUE(absl::IsDataLoss(direct.status())) << direct.status();
  }

  const ParameterLayout layout_ = SmallAlbertLayout();
  std::string run_;
  std::map<int64_t, CheckpointContents> written_;
  CheckpointOptions options_;
  std::vector<std::string> warnings_;
};

TEST(CheckpointNames, AreNineDigitsAndParseBack) {
  EXPECT_EQ(CheckpointDirName(0), "step-000000000");
  EXPECT_EQ(CheckpointDirName(12500), "step-000012500");
  EXPECT_EQ(CheckpointDirName(1234567890), "step-1234567890");
  EXPECT_EQ(PartialCheckpointDirName(7), ".step-000000007.partial");
  for (int64_t step : {0, 7, 12500, 999999999, 1234567890}) {
    EXPECT_EQ(ParseCheckpointDirName(CheckpointDirName(step)), step);
  }
  for (const char* name : {"step-42", "step-00000004x", "step-0000000042", ".step-000000007.partial",
                           "step-000000007.partial", "step--00000007", "steps-000000007", ""}) {
    EXPECT_EQ(ParseCheckpointDirName(name), std::nullopt) << name;
  }
}

TEST(Checkpoint, RoundTripIsBitwise) {
  const std::string run = FreshTestDir("round_trip");
  const ParameterLayout layout = SmallAlbertLayout();
  const CheckpointContents written = TestContents(layout, 42, 7);
  absl::StatusOr<std::string> dir = WriteCheckpoint(run, written, layout);
  ASSERT_TRUE(dir.ok()) << dir.status();
  EXPECT_EQ(*dir, run + "/checkpoints/step-000000042");
  std::vector<std::string> entries;
  for (const auto& entry : fs::directory_iterator(run + "/checkpoints")) entries.push_back(entry.path().filename());
  EXPECT_EQ(entries, std::vector<std::string>{"step-000000042"});  // no partial directory left

  absl::StatusOr<CheckpointContents> loaded = LoadCheckpoint(*dir, layout);
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  ExpectSameContents(*loaded, written);
  const CheckpointManifest& m = loaded->manifest;
  EXPECT_EQ(m.format_version(), kCheckpointFormatVersion);
  EXPECT_EQ(m.step(), 42);
  EXPECT_FALSE(m.created_at().empty());
  ASSERT_EQ(m.files_size(), 2);
  EXPECT_EQ(m.files(0).name(), "model.safetensors");
  EXPECT_EQ(m.files(1).name(), "optimizer.safetensors");
  for (const CheckpointFile& file : m.files()) {
    EXPECT_EQ(file.bytes(), static_cast<int64_t>(fs::file_size(*dir + "/" + file.name())));
    EXPECT_EQ(file.sha256().size(), 64u);
  }
}

// model.safetensors holds the parameters under Hugging Face's names with {"format": "pt"}
// (what transformers' from_pretrained needs); optimizer.safetensors the moments and step.
TEST(Checkpoint, FilesUseHuggingFaceNames) {
  const std::string run = FreshTestDir("names");
  const ParameterLayout layout = SmallAlbertLayout();
  const CheckpointContents written = TestContents(layout, 3, 1);
  ASSERT_TRUE(WriteCheckpoint(run, written, layout).ok());
  absl::StatusOr<SafetensorsFile> model = SafetensorsFile::Read(run + "/checkpoints/step-000000003/model.safetensors");
  ASSERT_TRUE(model.ok()) << model.status();
  EXPECT_EQ(model->metadata().at("format"), "pt");
  EXPECT_EQ(model->entries().size(), layout.tensors.size());
  const NamedTensor& ffn = layout.tensors[layout.tensors.size() / 2];
  EXPECT_EQ(model->entries().at(ffn.name).shape, ffn.shape);
  EXPECT_TRUE(model->entries().count("albert.embeddings.word_embeddings.weight"));
  absl::StatusOr<SafetensorsFile> optimizer =
      SafetensorsFile::Read(run + "/checkpoints/step-000000003/optimizer.safetensors");
  ASSERT_TRUE(optimizer.ok()) << optimizer.status();
  EXPECT_EQ(optimizer->entries().size(), 2 * layout.tensors.size() + 1);
  EXPECT_EQ(optimizer->entries().at("exp_avg_sq." + ffn.name).shape, ffn.shape);
  EXPECT_EQ(*optimizer->Float64("step"), std::vector<double>{2});
}

TEST(Checkpoint, NeverReplacesACompleteCheckpoint) {
  const std::string run = FreshTestDir("no_overwrite");
  const ParameterLayout layout = SmallAlbertLayout();
  const CheckpointContents first = TestContents(layout, 5, 1);
  ASSERT_TRUE(WriteCheckpoint(run, first, layout).ok());
  absl::StatusOr<std::string> again = WriteCheckpoint(run, TestContents(layout, 5, 2), layout);
  EXPECT_TRUE(absl::IsAlreadyExists(again.status())) << again.status();
  EXPECT_THAT(again.status().message(), HasSubstr("step-000000005"));
  absl::StatusOr<CheckpointContents> loaded = LoadCheckpoint(run + "/checkpoints/step-000000005", layout);
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  ExpectSameContents(*loaded, first);
}

TEST(Checkpoint, RefusesContentsThatDoNotFitTheLayout) {
  const std::string run = FreshTestDir("bad_contents");
  const ParameterLayout layout = SmallAlbertLayout();
  CheckpointContents contents = TestContents(layout, 5, 1);
  contents.exp_avg.pop_back();
  absl::StatusOr<std::string> written = WriteCheckpoint(run, contents, layout);
  EXPECT_TRUE(absl::IsInvalidArgument(written.status())) << written.status();
  EXPECT_THAT(written.status().message(), HasSubstr("exp_avg"));
  contents = TestContents(layout, -1, 1);
  EXPECT_TRUE(absl::IsInvalidArgument(WriteCheckpoint(run, contents, layout).status()));
  EXPECT_FALSE(fs::exists(run + "/checkpoints/step-000000005"));
}

TEST(Checkpoint, RunDirectoryMustExist) {
  const std::string run = FreshTestDir("missing_run") + "/absent";
  const ParameterLayout layout = SmallAlbertLayout();
  absl::StatusOr<std::string> written = WriteCheckpoint(run, TestContents(layout, 1, 1), layout);
  EXPECT_TRUE(absl::IsNotFound(written.status())) << written.status();
  EXPECT_THAT(written.status().message(), HasSubstr(run));
}

TEST(Checkpoint, NoCheckpointIsNotFound) {
  const std::string run = FreshTestDir("none");
  const ParameterLayout layout = SmallAlbertLayout();
  EXPECT_TRUE(absl::IsNotFound(LoadLatestValidCheckpoint(run, layout).status()));
  fs::create_directory(run + "/checkpoints");
  EXPECT_TRUE(absl::IsNotFound(LoadLatestValidCheckpoint(run, layout).status()));
  EXPECT_TRUE(absl::IsNotFound(LoadCheckpoint(run + "/checkpoints/step-000000001", layout).status()));
  EXPECT_TRUE(ListCheckpointSteps(run)->empty());
}

TEST_F(DamagedCheckpointTest, NewestIsLoadedWhenAllAreIntact) {
  absl::StatusOr<LoadedCheckpoint> loaded = LoadLatestValidCheckpoint(run_, layout_, options_);
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  EXPECT_EQ(loaded->path, Dir(200));
  ExpectSameContents(loaded->contents, written_[200]);
  EXPECT_TRUE(warnings_.empty());
  EXPECT_EQ(*ListCheckpointSteps(run_), (std::vector<int64_t>{100, 200}));
}

TEST_F(DamagedCheckpointTest, CorruptByteInModelIsSkipped) {
  const std::string path = Dir(200) + "/model.safetensors";
  std::string bytes = ReadAll(path);
  bytes[bytes.size() - 5] ^= 0x10;  // in the data, where only the checksum can tell
  WriteAll(path, bytes);
  ExpectFallbackTo100("SHA-256");
}

TEST_F(DamagedCheckpointTest, TruncatedFileIsSkipped) {
  fs::resize_file(Dir(200) + "/optimizer.safetensors", 1000);
  ExpectFallbackTo100("truncated");
}

TEST_F(DamagedCheckpointTest, MissingFileIsSkipped) {
  fs::remove(Dir(200) + "/optimizer.safetensors");
  ExpectFallbackTo100("optimizer.safetensors is missing");
}

TEST_F(DamagedCheckpointTest, MissingManifestIsSkipped) {
  fs::remove(Dir(200) + "/manifest.pb.txt");
  ExpectFallbackTo100("no manifest.pb.txt");
}

TEST_F(DamagedCheckpointTest, UnparsableManifestIsSkipped) {
  const std::string path = Dir(200) + "/manifest.pb.txt";
  WriteAll(path, ReadAll(path).substr(0, 40));
  ExpectFallbackTo100("does not parse");
}

TEST_F(DamagedCheckpointTest, ManifestOfAnotherStepIsSkipped) {
  fs::rename(Dir(200), Dir(300));
  absl::StatusOr<LoadedCheckpoint> loaded = LoadLatestValidCheckpoint(run_, layout_, options_);
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  EXPECT_EQ(loaded->path, Dir(100));
  ASSERT_EQ(warnings_.size(), 1u);
  EXPECT_THAT(warnings_[0], HasSubstr("the manifest says step 200, the directory name 300"));
}

TEST_F(DamagedCheckpointTest, PartialDirectoryIsIgnoredWithAWarning) {
  // A crash after writing every file of step 300 but before the rename.
  fs::copy(Dir(200), run_ + "/checkpoints/.step-000000300.partial");
  absl::StatusOr<LoadedCheckpoint> loaded = LoadLatestValidCheckpoint(run_, layout_, options_);
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  EXPECT_EQ(loaded->path, Dir(200));
  ASSERT_EQ(warnings_.size(), 1u);
  EXPECT_THAT(warnings_[0], HasSubstr(".step-000000300.partial"));
  EXPECT_THAT(warnings_[0], HasSubstr("interrupted"));
}

TEST_F(DamagedCheckpointTest, AllDamagedIsNotFoundWithAWarningEach) {
  fs::remove(Dir(100) + "/model.safetensors");
  fs::remove(Dir(200) + "/manifest.pb.txt");
  absl::StatusOr<LoadedCheckpoint> loaded = LoadLatestValidCheckpoint(run_, layout_, options_);
  EXPECT_TRUE(absl::IsNotFound(loaded.status())) << loaded.status();
  EXPECT_EQ(warnings_.size(), 2u);
}

// A read error says nothing about the checkpoint: it is returned, not skipped.
TEST_F(DamagedCheckpointTest, ReadErrorIsReturnedNotSkipped) {
  FaultInjectingFileSystem faulty(PosixCheckpointFileSystem());
  faulty.FailNth(FaultInjectingFileSystem::Op::kReadFile, 1);  // step 200's model.safetensors
  options_.file_system = &faulty;
  absl::StatusOr<LoadedCheckpoint> loaded = LoadLatestValidCheckpoint(run_, layout_, options_);
  EXPECT_EQ(loaded.status().code(), absl::StatusCode::kInternal) << loaded.status();
  EXPECT_THAT(loaded.status().message(), HasSubstr(Dir(200) + "/model.safetensors"));
  EXPECT_TRUE(warnings_.empty());
}

// An intact checkpoint of another model config is an error that names the tensor, and
// loading does not fall back to an older checkpoint.
TEST_F(DamagedCheckpointTest, AnotherModelConfigIsAnErrorNamingTheTensor) {
  const ParameterLayout wider = SmallAlbertLayout(64, /*intermediate_size=*/48);
  absl::StatusOr<LoadedCheckpoint> loaded = LoadLatestValidCheckpoint(run_, wider, options_);
  EXPECT_TRUE(absl::IsFailedPrecondition(loaded.status())) << loaded.status();
  EXPECT_THAT(loaded.status().message(), HasSubstr(Dir(200) + "/model.safetensors"));
  EXPECT_THAT(loaded.status().message(),
              HasSubstr("albert.encoder.albert_layer_groups.0.albert_layers.0.ffn.weight has shape [32, 16], "
                        "the current model [48, 16]"));
  EXPECT_TRUE(warnings_.empty());

  // A bigger vocabulary changes the first tensor.
  absl::Status vocab = LoadCheckpoint(Dir(100), SmallAlbertLayout(80)).status();
  EXPECT_TRUE(absl::IsFailedPrecondition(vocab)) << vocab;
  EXPECT_THAT(vocab.message(), HasSubstr("albert.embeddings.word_embeddings.weight"));
}

TEST_F(DamagedCheckpointTest, ExtraTensorIsAnErrorNamingIt) {
  ParameterLayout fewer = layout_;
  const std::string dropped = fewer.tensors.back().name;
  fewer.tensors.pop_back();
  absl::Status status = LoadCheckpoint(Dir(100), fewer).status();
  EXPECT_TRUE(absl::IsFailedPrecondition(status)) << status;
  EXPECT_THAT(status.message(), HasSubstr("tensor " + dropped + " is not in the current model"));
}

}  // namespace
}  // namespace cloze
