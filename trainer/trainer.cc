#include "trainer/trainer.h"

#include <memory>

#include "trainer/training_run.h"

namespace cloze {

absl::StatusOr<TrainSummary> Train(const TrainOptions& options) {
  absl::StatusOr<std::unique_ptr<TrainingRun>> run = TrainingRun::Setup(options);
  if (!run.ok()) return run.status();
  while ((*run)->HasNextStep()) {
    if (absl::Status s = (*run)->Step(); !s.ok()) return s;
  }
  return (*run)->Finish();
}

}  // namespace cloze
