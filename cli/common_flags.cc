#include "cli/common_flags.h"

#include <algorithm>
#include <cstdlib>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "kernels/cpu/threads.h"

// Optional, so that train and launch can tell a seed given from the default.
ABSL_FLAG(std::optional<uint64_t>, seed, std::nullopt,
          "seed of everything random (parameters, data, dropout; default 12345); train and launch: replaces the "
          "config's seed when given; worker: refused (a job's workers take the seed of its config)");
ABSL_FLAG(int, threads, 0,
          "threads: prepare's workers; the CPU ops and matrix products of train, finetune, worker, step, ... "
          "(0: prepare one per hardware thread, the ops OpenMP's default: OMP_NUM_THREADS or every core)");

ABSL_FLAG(std::string, config, "", "training config (text TrainConfig, e.g. configs/train-demo.textproto)");
ABSL_FLAG(std::string, run_dir, "", "run directory (checkpoints, metrics.jsonl); a run resumes if it has checkpoints");
ABSL_FLAG(std::string, run_name, "", "the metrics' run label (default: the run directory's name)");
ABSL_FLAG(std::string, metrics_address, "127.0.0.1:9400",
          "Prometheus endpoint HOST:PORT (port 0: any free port; empty: none)");
ABSL_FLAG(std::string, metrics_port_file, "", "write the Prometheus endpoint's port to this file");

ABSL_FLAG(std::string, coordinator, "", "the job's coordinator, HOST:PORT");
ABSL_FLAG(std::string, listen, "127.0.0.1:0", "this service's gRPC address HOST:PORT (port 0: any free port)");
ABSL_FLAG(std::string, port_file, "", "write the gRPC port actually bound to this file");
ABSL_FLAG(std::string, job_token_file, "", "file holding the job's shared token (cloze launch writes one)");
ABSL_FLAG(std::string, tls_cert, "", "PEM certificate chain of this service (with --tls_key: serve TLS)");
ABSL_FLAG(std::string, tls_key, "", "PEM private key of --tls_cert");
ABSL_FLAG(int, rank, -1,
          "cloze worker / cloze ps: the rank to ask the coordinator for (0 to workers-1, or servers-1); -1: a "
          "worker's MPI rank under mpirun, else any free rank. Beats the MPI rank (e.g. a Kubernetes Indexed "
          "Job's JOB_COMPLETION_INDEX)");
ABSL_FLAG(std::string, tls_ca, "", "PEM CA certificate to verify the job's servers by (client-side TLS)");

ABSL_FLAG(std::string, device, "cpu",
          "cpu, or cuda: train on a GPU (cloze launch --device=cuda starts one worker per GPU, the i-th with "
          "--gpu=i, and they all-reduce with NCCL)");
ABSL_FLAG(int, gpu, -1,
          "with --device=cuda: the CUDA device index to train on (cudaSetDevice); -1: the process's local "
          "rank under mpirun or Slurm (OMPI_COMM_WORLD_LOCAL_RANK, SLURM_LOCALID), else 0");
ABSL_FLAG(std::string, gpu_precision, "bf16",
          "with --device=cuda: bf16 (bf16 matmul inputs, fp32 accumulation and master weights) or fp32");
ABSL_FLAG(std::string, gpu_attention, "unfused",
          "with --device=cuda: unfused (cuBLAS GEMMs around a softmax kernel, keeping the T×T probabilities) "
          "or fused (one flash-style kernel that recomputes them in backward, on tensor cores with bf16; less "
          "memory)");

ABSL_FLAG(std::string, precision, "fp32",
          "cloze finetune, evaluate, probe: the CPU matrix products' precision: fp32, or bf16 (bf16 operands, fp32 "
          "accumulation, on CPUs with AVX512-BF16; fp32 elsewhere). cloze train reads TrainConfig.precision");

ABSL_FLAG(std::vector<std::string>, testing_nonfinite_loss_steps, {},
          "for tests only (fault injection): these steps (1-based, comma-separated) report a NaN loss, which the "
          "loss guard skips and, after guard.max_consecutive_skips in a row, rolls back from. cloze train and "
          "cloze worker inject it; cloze launch passes it to its workers");

namespace cloze::cli {

absl::StatusOr<std::vector<int64_t>> NonfiniteLossStepsFromFlag() {
  std::vector<int64_t> steps;
  for (const std::string& step : absl::GetFlag(FLAGS_testing_nonfinite_loss_steps)) {
    int64_t value = 0;
    if (!absl::SimpleAtoi(step, &value)) {
      return absl::InvalidArgumentError(absl::StrCat("--testing_nonfinite_loss_steps: \"", step, "\" is not a step"));
    }
    steps.push_back(value);
  }
  return steps;
}

absl::StatusOr<TrainingDevice> TrainingDeviceFromFlags() {
  TrainingDevice device;
  const std::string kind = absl::GetFlag(FLAGS_device), precision = absl::GetFlag(FLAGS_gpu_precision),
                    attention = absl::GetFlag(FLAGS_gpu_attention);
  if (kind == "cuda") {
    device.kind = TrainingDevice::Kind::kCuda;
  } else if (kind != "cpu") {
    return absl::InvalidArgumentError(absl::StrCat("--device=", kind, ": want cpu or cuda"));
  }
  device.gpu = absl::GetFlag(FLAGS_gpu);
  if (device.gpu == -1) {
    // One process per GPU on a node: its local rank picks the GPU.
    device.gpu = 0;
    for (const char* variable : {"OMPI_COMM_WORLD_LOCAL_RANK", "SLURM_LOCALID"}) {
      const char* value = std::getenv(variable);
      if (value != nullptr && absl::SimpleAtoi(value, &device.gpu)) break;
    }
  }
  if (device.gpu < 0) return absl::InvalidArgumentError(absl::StrCat("--gpu=", device.gpu, ": want 0 or more, or -1"));
  if (precision == "fp32") {
    device.gpu_model.precision = GpuPrecision::kFp32;
  } else if (precision != "bf16") {
    return absl::InvalidArgumentError(absl::StrCat("--gpu_precision=", precision, ": want bf16 or fp32"));
  }
  if (attention == "fused") {
    device.gpu_model.attention = GpuAttention::kFused;
  } else if (attention != "unfused") {
    return absl::InvalidArgumentError(absl::StrCat("--gpu_attention=", attention, ": want unfused or fused"));
  }
  return device;
}

absl::StatusOr<TrainConfig::Precision> PrecisionFromFlag() {
  const std::string precision = absl::GetFlag(FLAGS_precision);
  if (precision == "fp32") return TrainConfig::FP32;
  if (precision == "bf16") return TrainConfig::BF16;
  return absl::InvalidArgumentError(absl::StrCat("--precision=", precision, ": want fp32 or bf16"));
}

void ApplyThreadsFlagToCpuOps() {
  const int threads = absl::GetFlag(FLAGS_threads);
  if (threads > 0) cpu::SetCpuThreads(threads);
}

std::optional<uint64_t> SeedFromCommandLine() { return absl::GetFlag(FLAGS_seed); }

uint64_t SeedFlag() { return absl::GetFlag(FLAGS_seed).value_or(kDefaultSeed); }

int CommandThreads() {
  const int threads = absl::GetFlag(FLAGS_threads);
  return threads > 0 ? threads : std::max(1u, std::thread::hardware_concurrency());
}

}  // namespace cloze::cli
