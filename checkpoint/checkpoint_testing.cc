#include "checkpoint/checkpoint_testing.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <limits>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "model/model_config.h"

namespace cloze {
namespace {

bool AtOrUnder(const std::string& path, const std::string& dir) {
  return path == dir || (path.size() > dir.size() && path.starts_with(dir) && path[dir.size()] == '/');
}

// `path` with its prefix `from` (a directory) replaced by `to`.
std::string Moved(const std::string& path, const std::string& from, const std::string& to) {
  return AtOrUnder(path, from) ? to + path.substr(from.size()) : path;
}

std::string Parent(const std::string& path) {
  const size_t slash = path.find_last_of('/');
  return slash == std::string::npos ? "." : path.substr(0, slash);
}

}  // namespace

void FaultInjectingFileSystem::FailNth(Op op, int n) {
  absl::MutexLock lock(&mu_);
  failing_calls_[op].insert(calls_[op] + n);
}

void FaultInjectingFileSystem::CrashAtMutation(int n) {
  absl::MutexLock lock(&mu_);
  crash_at_ = mutations_ + n;
}

void FaultInjectingFileSystem::SetHook(std::function<void(Op, const std::string&)> hook) {
  absl::MutexLock lock(&mu_);
  hook_ = std::move(hook);
}

int FaultInjectingFileSystem::mutations() const {
  absl::MutexLock lock(&mu_);
  return mutations_;
}

int FaultInjectingFileSystem::calls(Op op) const {
  absl::MutexLock lock(&mu_);
  auto it = calls_.find(op);
  return it == calls_.end() ? 0 : it->second;
}

FaultInjectingFileSystem::Fault FaultInjectingFileSystem::Enter(Op op, const std::string& path) {
  std::function<void(Op, const std::string&)> hook;
  {
    absl::MutexLock lock(&mu_);
    hook = hook_;
  }
  if (hook) hook(op, path);
  absl::MutexLock lock(&mu_);
  const int call = calls_[op]++;
  if (op != Op::kReadFile && op != Op::kListDir && mutations_++ == crash_at_) {
    crashed_ = true;
    return Fault::kCrashHere;
  }
  if (crashed_) return Fault::kDead;
  return failing_calls_[op].erase(call) > 0 ? Fault::kFail : Fault::kNone;
}

absl::Status FaultInjectingFileSystem::Refusal(Fault fault, const std::string& path, const char* operation) {
  switch (fault) {
    case Fault::kNone:
      return absl::OkStatus();
    case Fault::kFail:
      return absl::InternalError(absl::StrCat(path, ": ", operation, ": injected I/O error"));
    case Fault::kCrashHere:
    case Fault::kDead:
      break;
  }
  return absl::AbortedError(absl::StrCat(path, ": ", operation, ": the process has crashed (injected)"));
}

absl::Status FaultInjectingFileSystem::CreateDir(const std::string& path) {
  if (absl::Status s = Refusal(Enter(Op::kCreateDir, path), path, "mkdir"); !s.ok()) return s;
  return base_->CreateDir(path);
}

absl::Status FaultInjectingFileSystem::WriteFile(const std::string& path, std::string_view contents) {
  const Fault fault = Enter(Op::kWriteFile, path);
  if (fault == Fault::kDead) return Refusal(fault, path, "write");
  absl::Status failure;
  if (fault == Fault::kFail) {
    failure = absl::ResourceExhaustedError(absl::StrCat(path, ": write: no space left on device (injected)"));
  } else if (fault == Fault::kCrashHere) {
    failure = Refusal(fault, path, "write");
  }
  // A full disk or a crash lets part of the data out.
  if (!failure.ok()) contents = contents.substr(0, contents.size() / 2);
  absl::Status written = base_->WriteFile(path, contents);
  {
    absl::MutexLock lock(&mu_);
    unsynced_files_.insert(path);
  }
  return failure.ok() ? written : failure;
}

absl::Status FaultInjectingFileSystem::SyncFile(const std::string& path) {
  if (absl::Status s = Refusal(Enter(Op::kSyncFile, path), path, "fsync"); !s.ok()) return s;
  absl::Status synced = base_->SyncFile(path);
  if (synced.ok()) {
    absl::MutexLock lock(&mu_);
    unsynced_files_.erase(path);
  }
  return synced;
}

absl::Status FaultInjectingFileSystem::SyncDir(const std::string& path) {
  if (absl::Status s = Refusal(Enter(Op::kSyncDir, path), path, "fsync directory"); !s.ok()) return s;
  absl::Status synced = base_->SyncDir(path);
  if (synced.ok()) {
    absl::MutexLock lock(&mu_);
    std::erase_if(unsynced_renames_, [&](const auto& rename) { return Parent(rename.second) == path; });
  }
  return synced;
}

absl::Status FaultInjectingFileSystem::RenameDir(const std::string& from, const std::string& to) {
  if (absl::Status s = Refusal(Enter(Op::kRenameDir, from), from, "rename"); !s.ok()) return s;
  absl::Status renamed = base_->RenameDir(from, to);
  if (renamed.ok()) {
    absl::MutexLock lock(&mu_);
    std::set<std::string> moved;
    for (const std::string& file : unsynced_files_) moved.insert(Moved(file, from, to));
    unsynced_files_ = std::move(moved);
    unsynced_renames_.emplace_back(from, to);
  }
  return renamed;
}

absl::Status FaultInjectingFileSystem::RemoveAll(const std::string& path) {
  if (absl::Status s = Refusal(Enter(Op::kRemoveAll, path), path, "remove"); !s.ok()) return s;
  absl::Status removed = base_->RemoveAll(path);
  if (removed.ok()) {
    absl::MutexLock lock(&mu_);
    std::erase_if(unsynced_files_, [&](const std::string& file) { return AtOrUnder(file, path); });
    std::erase_if(unsynced_renames_, [&](const auto& rename) { return AtOrUnder(rename.second, path); });
  }
  return removed;
}

absl::StatusOr<std::string> FaultInjectingFileSystem::ReadFile(const std::string& path) {
  if (absl::Status s = Refusal(Enter(Op::kReadFile, path), path, "read"); !s.ok()) return s;
  return base_->ReadFile(path);
}

absl::StatusOr<std::vector<std::string>> FaultInjectingFileSystem::ListDir(const std::string& path) {
  if (absl::Status s = Refusal(Enter(Op::kListDir, path), path, "list"); !s.ok()) return s;
  return base_->ListDir(path);
}

void FaultInjectingFileSystem::SimulatePowerLoss() {
  absl::MutexLock lock(&mu_);
  for (auto it = unsynced_renames_.rbegin(); it != unsynced_renames_.rend(); ++it) {
    const auto& [from, to] = *it;
    if (!base_->RenameDir(to, from).ok()) continue;
    std::set<std::string> moved;
    for (const std::string& file : unsynced_files_) moved.insert(Moved(file, to, from));
    unsynced_files_ = std::move(moved);
  }
  for (const std::string& file : unsynced_files_) {
    absl::StatusOr<std::string> contents = base_->ReadFile(file);
    if (contents.ok()) (void)base_->WriteFile(file, std::string_view(*contents).substr(0, contents->size() / 2));
  }
  unsynced_files_.clear();
  unsynced_renames_.clear();
}

std::string FreshTestDir(const std::string& name) {
  std::string dir = ::testing::TempDir();
  if (dir.empty() || dir.back() != '/') dir += '/';
  dir += name;
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir;
}

ParameterLayout SmallAlbertLayout(int vocab_size, int intermediate_size) {
  const std::string text = absl::StrCat(
      "model_type: 'albert' vocab_size: ", vocab_size,
      " embedding_size: 8 hidden_size: 16 num_hidden_layers: 2 num_attention_heads: 2 intermediate_size: ",
      intermediate_size,
      " num_hidden_groups: 1 inner_group_num: 1 hidden_act: 'gelu_new' max_position_embeddings: 32"
      " type_vocab_size: 2 layer_norm_eps: 1e-12 initializer_range: 0.02");
  absl::StatusOr<ModelConfig> config = ParseModelConfigText(text, "SmallAlbertLayout");
  if (!config.ok()) {
    ADD_FAILURE() << config.status();
    return {};
  }
  return BuildParameterLayout(*config);
}

CheckpointContents TestContents(const ParameterLayout& layout, int64_t step, uint32_t seed) {
  CheckpointContents contents;
  contents.step = step;
  contents.optimizer_step = step - 1;
  std::vector<float>* buffers[] = {&contents.parameters, &contents.exp_avg, &contents.exp_avg_sq};
  uint32_t state = seed * 2654435761u + 12345u;
  for (std::vector<float>* buffer : buffers) {
    buffer->resize(layout.total_size);
    for (float& x : *buffer) {
      state = state * 1664525u + 1013904223u;
      x = static_cast<float>(static_cast<int32_t>(state)) * 1e-9f;
    }
  }
  const uint32_t nan_bits = 0x7fc00123u;  // a quiet NaN with a payload
  float nan;
  std::memcpy(&nan, &nan_bits, sizeof(nan));
  const float specials[] = {-0.0f, std::numeric_limits<float>::denorm_min(), std::numeric_limits<float>::infinity(),
                            -std::numeric_limits<float>::infinity(), nan};
  for (size_t i = 0; i < std::size(specials) && i < contents.parameters.size(); ++i) {
    contents.parameters[i] = specials[i];
    contents.exp_avg_sq[contents.exp_avg_sq.size() - 1 - i] = specials[i];
  }
  CheckpointManifest& m = contents.manifest;
  m.mutable_train_config()->set_seed(seed);
  m.mutable_train_config()->mutable_checkpoint()->set_keep_last(3);
  m.mutable_data_cursor()->set_epoch(2);
  m.mutable_data_cursor()->set_position(step * 8);
  m.mutable_data_cursor()->set_order_fingerprint(absl::StrCat("fingerprint-", seed));
  m.mutable_trainer_state()->set_loss_mean(1.0 / 3.0 + seed);
  m.mutable_trainer_state()->set_accepted_steps(step);
  m.mutable_trainer_state()->set_learning_rate_scale(0.1f);
  return contents;
}

bool BitwiseEqual(const std::vector<float>& a, const std::vector<float>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

}  // namespace cloze
