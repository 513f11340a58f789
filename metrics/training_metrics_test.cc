#include "metrics/training_metrics.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <optional>
#include <sstream>
#include <string>
#include <thread>

#include "gtest/gtest.h"

namespace cloze {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// GET http://127.0.0.1:port/metrics over a plain socket; the body, or "" on any failure.
std::string Scrape(int port) {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return "";
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  std::string response;
  if (connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0) {
    const std::string request = "GET /metrics HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n";
    if (write(fd, request.data(), request.size()) == static_cast<ssize_t>(request.size())) {
      char buffer[4096];
      for (ssize_t n; (n = read(fd, buffer, sizeof(buffer))) > 0;) response.append(buffer, n);
    }
  }
  close(fd);
  const size_t body = response.find("\r\n\r\n");
  return body == std::string::npos ? "" : response.substr(body + 4);
}

// The value of `name{run="RUN"}` in exposition text, if the sample is there.
std::optional<double> Sample(const std::string& text, const std::string& name, const std::string& run = "test") {
  const std::string prefix = name + "{run=\"" + run + "\"} ";
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);) {
    if (line.rfind(prefix, 0) == 0) return std::strtod(line.c_str() + prefix.size(), nullptr);  // "Nan" too
  }
  return std::nullopt;
}

// A clock the test moves by hand.
struct FakeClock {
  std::atomic<int64_t> seconds{1'700'000'000};
  std::function<absl::Time()> Function() {
    return [this] { return absl::FromUnixSeconds(seconds.load()); };
  }
};

StepRecord GoodStep(int64_t step) {
  StepRecord r;
  r.step = step;
  r.mlm_loss = 6.5;
  r.sentence_loss = 0.5;
  r.loss = 7.0;
  r.mlm_accuracy = 0.25;
  r.sentence_accuracy = 0.75;
  r.learning_rate = 1e-4;
  r.grad_norm = 2.5;
  r.tokens_per_second = 1000;
  r.tokens = 512;
  return r;
}

std::unique_ptr<TrainingMetrics> StartOrDie(TrainingMetricsOptions options) {
  absl::StatusOr<std::unique_ptr<TrainingMetrics>> metrics = TrainingMetrics::Start(std::move(options));
  EXPECT_TRUE(metrics.ok()) << metrics.status();
  return metrics.ok() ? std::move(*metrics) : nullptr;
}

TEST(TrainingMetricsTest, ServesOnAPortTheSystemPicked) {
  FakeClock clock;
  std::unique_ptr<TrainingMetrics> metrics =
      StartOrDie({.listen_address = "127.0.0.1:0", .run = "test", .now = clock.Function()});
  ASSERT_NE(metrics, nullptr);
  ASSERT_GT(metrics->port(), 0);
  metrics->RecordStep(GoodStep(3));
  const std::string text = Scrape(metrics->port());
  EXPECT_EQ(Sample(text, "cloze_train_step"), 3.0) << text;
  EXPECT_EQ(Sample(text, "cloze_train_loss"), 7.0) << text;
  // The endpoint serves exactly what ExpositionText renders.
  EXPECT_NE(text.find(metrics->ExpositionText()), std::string::npos) << text;
}

TEST(TrainingMetricsTest, BeforeAnyStepOnlyCountersAndTimestampsAreExported) {
  FakeClock clock;
  std::unique_ptr<TrainingMetrics> metrics =
      StartOrDie({.listen_address = "", .run = "test", .now = clock.Function()});
  ASSERT_NE(metrics, nullptr);
  EXPECT_EQ(metrics->port(), 0);
  const std::string text = metrics->ExpositionText();
  for (const char* name : {"cloze_train_skipped_steps_total", "cloze_train_nonfinite_losses_total",
                           "cloze_train_rollbacks_total", "cloze_train_tokens_total", "cloze_train_checkpoints_total"}) {
    EXPECT_EQ(Sample(text, name), 0.0) << name << "\n" << text;
  }
  // Both ages count from the start, not from 1970.
  EXPECT_EQ(Sample(text, "cloze_train_last_step_timestamp_seconds"), 1.7e9) << text;
  EXPECT_EQ(Sample(text, "cloze_train_last_checkpoint_timestamp_seconds"), 1.7e9) << text;
  for (const char* name : {"cloze_train_step", "cloze_train_loss", "cloze_train_last_checkpoint_step",
                           "cloze_eval_loss"}) {
    EXPECT_EQ(Sample(text, name), std::nullopt) << name << "\n" << text;
  }
}

TEST(TrainingMetricsTest, StepFiguresAndCounters) {
  FakeClock clock;
  std::unique_ptr<TrainingMetrics> metrics =
      StartOrDie({.listen_address = "", .run = "test", .now = clock.Function()});
  ASSERT_NE(metrics, nullptr);
  clock.seconds += 10;
  metrics->RecordStep(GoodStep(1));
  clock.seconds += 10;
  metrics->RecordStep(GoodStep(2));
  const std::string text = metrics->ExpositionText();
  EXPECT_EQ(Sample(text, "cloze_train_step"), 2.0);
  EXPECT_EQ(Sample(text, "cloze_train_mlm_loss"), 6.5);
  EXPECT_EQ(Sample(text, "cloze_train_sentence_loss"), 0.5);
  EXPECT_EQ(Sample(text, "cloze_train_mlm_accuracy"), 0.25);
  EXPECT_EQ(Sample(text, "cloze_train_sentence_accuracy"), 0.75);
  EXPECT_EQ(Sample(text, "cloze_train_learning_rate"), 1e-4);
  EXPECT_EQ(Sample(text, "cloze_train_grad_norm"), 2.5);
  EXPECT_EQ(Sample(text, "cloze_train_tokens_per_second"), 1000.0);
  EXPECT_EQ(Sample(text, "cloze_train_tokens_total"), 1024.0);
  EXPECT_EQ(Sample(text, "cloze_train_last_step_timestamp_seconds"), 1.7e9 + 20);
  EXPECT_EQ(Sample(text, "cloze_train_skipped_steps_total"), 0.0);
  EXPECT_NE(text.find("# TYPE cloze_train_tokens_total counter"), std::string::npos) << text;
  EXPECT_NE(text.find("# TYPE cloze_train_loss gauge"), std::string::npos) << text;
}

TEST(TrainingMetricsTest, NonFiniteLossesAreExportedAsTheyAre) {
  FakeClock clock;
  std::unique_ptr<TrainingMetrics> metrics =
      StartOrDie({.listen_address = "", .run = "test", .now = clock.Function()});
  ASSERT_NE(metrics, nullptr);
  metrics->RecordStep(GoodStep(1));
  clock.seconds += 10;
  StepRecord bad = GoodStep(2);
  bad.loss = bad.mlm_loss = kNaN;
  bad.grad_norm = std::numeric_limits<double>::infinity();
  bad.skipped = true;
  metrics->RecordStep(bad);
  std::string text = metrics->ExpositionText();
  EXPECT_TRUE(std::isnan(Sample(text, "cloze_train_loss").value_or(0))) << text;
  EXPECT_TRUE(std::isnan(Sample(text, "cloze_train_mlm_loss").value_or(0))) << text;
  EXPECT_EQ(Sample(text, "cloze_train_grad_norm"), std::numeric_limits<double>::infinity()) << text;
  EXPECT_EQ(Sample(text, "cloze_train_skipped_steps_total"), 1.0);
  EXPECT_EQ(Sample(text, "cloze_train_nonfinite_losses_total"), 1.0);
  // A skipped step is no progress.
  EXPECT_EQ(Sample(text, "cloze_train_last_step_timestamp_seconds"), 1.7e9);

  // The next good step replaces the gauges; the counters remember.
  metrics->RecordStep(GoodStep(2));
  text = metrics->ExpositionText();
  EXPECT_EQ(Sample(text, "cloze_train_loss"), 7.0);
  EXPECT_EQ(Sample(text, "cloze_train_nonfinite_losses_total"), 1.0);
  EXPECT_EQ(Sample(text, "cloze_train_last_step_timestamp_seconds"), 1.7e9 + 10);
}

TEST(TrainingMetricsTest, CheckpointsEvaluationsAndRollbacks) {
  FakeClock clock;
  std::unique_ptr<TrainingMetrics> metrics =
      StartOrDie({.listen_address = "", .run = "test", .now = clock.Function()});
  ASSERT_NE(metrics, nullptr);
  clock.seconds += 100;
  metrics->RecordCheckpoint(50);
  metrics->RecordEval({.step = 50, .loss = 3.5, .mlm_accuracy = 0.4, .sentence_accuracy = 0.8});
  metrics->RecordRollback();
  const std::string text = metrics->ExpositionText();
  EXPECT_EQ(Sample(text, "cloze_train_last_checkpoint_timestamp_seconds"), 1.7e9 + 100);
  EXPECT_EQ(Sample(text, "cloze_train_last_checkpoint_step"), 50.0);
  EXPECT_EQ(Sample(text, "cloze_train_checkpoints_total"), 1.0);
  EXPECT_EQ(Sample(text, "cloze_train_rollbacks_total"), 1.0);
  EXPECT_EQ(Sample(text, "cloze_eval_step"), 50.0);
  EXPECT_EQ(Sample(text, "cloze_eval_loss"), 3.5);
  EXPECT_EQ(Sample(text, "cloze_eval_mlm_accuracy"), 0.4);
  EXPECT_EQ(Sample(text, "cloze_eval_sentence_accuracy"), 0.8);
}

TEST(TrainingMetricsTest, AFineTuningRunExportsItsTaskNotThePretrainingTerms) {
  std::unique_ptr<TrainingMetrics> metrics = StartOrDie({.listen_address = "", .run = "test"});
  ASSERT_NE(metrics, nullptr);
  metrics->RecordStep({.head = StepHead::kClassification, .step = 4, .loss = 0.6, .mlm_loss = 0.6, .mlm_accuracy = 0.7});
  metrics->RecordEval({.step = 4, .loss = 0.5, .task_metrics = {{"accuracy", 0.8}, {"f1", 0.75}}});
  const std::string text = metrics->ExpositionText();
  EXPECT_EQ(Sample(text, "cloze_train_loss"), 0.6);
  EXPECT_EQ(Sample(text, "cloze_train_task_accuracy"), 0.7);
  EXPECT_EQ(Sample(text, "cloze_eval_loss"), 0.5);
  EXPECT_NE(text.find("cloze_eval_task_metric{run=\"test\",metric=\"accuracy\"} 0.8"), std::string::npos) << text;
  EXPECT_NE(text.find("cloze_eval_task_metric{run=\"test\",metric=\"f1\"} 0.75"), std::string::npos) << text;
  for (const char* name : {"cloze_train_mlm_loss", "cloze_train_mlm_accuracy", "cloze_train_sentence_loss",
                           "cloze_eval_mlm_accuracy", "cloze_eval_sentence_accuracy"}) {
    EXPECT_EQ(text.find(name), std::string::npos) << name;
  }
}

TEST(TrainingMetricsTest, RefusesABusyAddressAndAnEmptyRun) {
  std::unique_ptr<TrainingMetrics> first = StartOrDie({.listen_address = "127.0.0.1:0", .run = "a"});
  ASSERT_NE(first, nullptr);
  absl::StatusOr<std::unique_ptr<TrainingMetrics>> second =
      TrainingMetrics::Start({.listen_address = "127.0.0.1:" + std::to_string(first->port()), .run = "b"});
  EXPECT_EQ(second.status().code(), absl::StatusCode::kUnavailable) << second.status();
  EXPECT_NE(second.status().message().find(std::to_string(first->port())), std::string::npos) << second.status();
  EXPECT_EQ(TrainingMetrics::Start({.listen_address = "", .run = ""}).status().code(),
            absl::StatusCode::kInvalidArgument);
}

// Each record has step == loss == tokens_per_second; a scrape taken while another thread
// records must never mix two records.
TEST(TrainingMetricsTest, AScrapeSeesWholeRecords) {
  std::unique_ptr<TrainingMetrics> metrics = StartOrDie({.listen_address = "", .run = "test"});
  ASSERT_NE(metrics, nullptr);
  auto consistent_record = [](int step) {
    StepRecord r = GoodStep(step);
    r.loss = r.tokens_per_second = step;
    return r;
  };
  metrics->RecordStep(consistent_record(0));
  std::atomic<bool> done{false};
  std::thread recorder([&] {
    for (int step = 1; step <= 20000; ++step) metrics->RecordStep(consistent_record(step));
    done = true;
  });
  int scrapes = 0, mixed = 0;
  while (!done || scrapes == 0) {
    const std::string text = metrics->ExpositionText();
    const double step = Sample(text, "cloze_train_step").value_or(-1);
    if (step != Sample(text, "cloze_train_loss").value_or(-2) ||
        step != Sample(text, "cloze_train_tokens_per_second").value_or(-3)) {
      ++mixed;
    }
    ++scrapes;
  }
  recorder.join();
  EXPECT_EQ(mixed, 0) << "of " << scrapes << " scrapes";
}

}  // namespace
}  // namespace cloze
