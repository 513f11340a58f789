#include <cmath>
#include <string>

#include "kernels/cuda/launch.cuh"
#include "kernels/cuda/optimizer.h"
#include "kernels/cuda/reduce.cuh"

namespace cloze::cuda {

namespace {

// The CPU's block size (kernels/cpu/optimizer.cc kBlock): blocks never span tensors.
constexpr int64_t kBlock = 1 << 15;

struct Block {
  int64_t begin, end;
  int32_t tensor;
};

struct Tensor {
  int32_t first_block, blocks;
  bool decayed;
};

template <typename T>
DeviceStatus upload(T** device, const std::vector<T>& host) {
  void* p = nullptr;
  CLOZE_RETURN_IF_DEVICE_ERROR(device_alloc(&p, host.size() * sizeof(T)));
  *device = static_cast<T*>(p);
  return copy_to_device(p, host.data(), host.size() * sizeof(T));
}

}  // namespace

struct FusedOptimizer::DeviceState {
  int64_t blocks = 0, tensors = 0;
  Block* block_table = nullptr;
  Tensor* tensor_table = nullptr;
  double* param_squares = nullptr;   // per block, LAMB
  double* update_squares = nullptr;  // per block, LAMB
  float* step_size = nullptr;        // per tensor, LAMB

  ~DeviceState() {
    // Frees cannot usefully fail here; a fault shows at the next synchronize anyway.
    (void)device_free(block_table);
    (void)device_free(tensor_table);
    (void)device_free(param_squares);
    (void)device_free(update_squares);
    (void)device_free(step_size);
  }
};

namespace {

// ALBERT's per-element LAMB direction, m / (√v + ε) (+ weight_decay·p), rounded as the
// CPU's LambDirection; pass 1 and pass 3 both call it, so they see the same value.
__device__ __forceinline__ float lamb_direction(float m, float v, float p, float epsilon,
                                                float weight_decay, bool decayed) {
  float u = __fdiv_rn(m, __fadd_rn(__fsqrt_rn(v), epsilon));
  if (decayed) u = __fadd_rn(u, __fmul_rn(weight_decay, p));
  return u;
}

// m ← β1·m + (1 − β1)·g;  v ← β2·v + (1 − β2)·g², each product and sum rounded.
__device__ __forceinline__ void update_moments(float& m, float& v, float g, float beta1,
                                               float beta2, float one_minus_beta1,
                                               float one_minus_beta2) {
  m = __fadd_rn(__fmul_rn(beta1, m), __fmul_rn(one_minus_beta1, g));
  v = __fadd_rn(__fmul_rn(beta2, v), __fmul_rn(one_minus_beta2, __fmul_rn(g, g)));
}

struct AdamWScalars {
  float beta1, beta2, one_minus_beta1, one_minus_beta2, epsilon;
  float step_size, correction2_sqrt, decay;
};

__global__ void adamw_kernel(const Block* blocks, int64_t block_count, const Tensor* tensors,
                             float* p, const float* g, float* m, float* v, AdamWScalars s) {
  CLOZE_BLOCK_ROW_LOOP(b, block_count) {
    const Block block = blocks[b];
    const float block_decay = tensors[block.tensor].decayed ? s.decay : 1.0f;
    for (int64_t i = block.begin + threadIdx.x; i < block.end; i += blockDim.x) {
      float mi = m[i], vi = v[i];
      update_moments(mi, vi, g[i], s.beta1, s.beta2, s.one_minus_beta1, s.one_minus_beta2);
      m[i] = mi;
      v[i] = vi;
      const float denom = __fadd_rn(__fdiv_rn(__fsqrt_rn(vi), s.correction2_sqrt), s.epsilon);
      // p·decay − (step_size·m) / denom, left to right as the CPU.
      p[i] = __fsub_rn(__fmul_rn(p[i], block_decay), __fdiv_rn(__fmul_rn(s.step_size, mi), denom));
    }
  }
}

struct LambScalars {
  float beta1, beta2, one_minus_beta1, one_minus_beta2, epsilon, weight_decay;
};

// Pass 1: the moments, and per block Σp² and Σu² in double.
__global__ void lamb_moments_kernel(const Block* blocks, int64_t block_count,
                                    const Tensor* tensors, const float* p, const float* g,
                                    float* m, float* v, LambScalars s, double* param_squares,
                                    double* update_squares) {
  CLOZE_BLOCK_ROW_LOOP(b, block_count) {
    const Block block = blocks[b];
    const bool decayed = tensors[block.tensor].decayed;
    double param_sum = 0, update_sum = 0;
    for (int64_t i = block.begin + threadIdx.x; i < block.end; i += blockDim.x) {
      float mi = m[i], vi = v[i];
      update_moments(mi, vi, g[i], s.beta1, s.beta2, s.one_minus_beta1, s.one_minus_beta2);
      m[i] = mi;
      v[i] = vi;
      const float u = lamb_direction(mi, vi, p[i], s.epsilon, s.weight_decay, decayed);
      param_sum += static_cast<double>(p[i]) * p[i];
      update_sum += static_cast<double>(u) * u;
    }
    param_sum = block_sum(param_sum);
    update_sum = block_sum(update_sum);
    if (threadIdx.x == 0) {
      param_squares[b] = param_sum;
      update_squares[b] = update_sum;
    }
  }
}

// Pass 2: per tensor, the trust ratio from its block sums in block order, times lr.
__global__ void lamb_step_size_kernel(const Tensor* tensors, int64_t tensor_count,
                                      const double* param_squares, const double* update_squares,
                                      float learning_rate, float* step_size) {
  CLOZE_GRID_STRIDE_LOOP(t, tensor_count) {
    const Tensor tensor = tensors[t];
    double ratio = 1.0;
    if (tensor.decayed) {
      double param_sum = 0, update_sum = 0;
      for (int32_t b = tensor.first_block; b < tensor.first_block + tensor.blocks; ++b) {
        param_sum += param_squares[b];
        update_sum += update_squares[b];
      }
      const double w_norm = sqrt(param_sum), u_norm = sqrt(update_sum);
      if (w_norm > 0 && u_norm > 0) ratio = w_norm / u_norm;
    }
    step_size[t] = static_cast<float>(ratio * static_cast<double>(learning_rate));
  }
}

// Pass 3: p ← p − step_size·u (the parameters are still the ones pass 1 read).
__global__ void lamb_apply_kernel(const Block* blocks, int64_t block_count, const Tensor* tensors,
                                  float* p, const float* m, const float* v, LambScalars s,
                                  const float* step_size) {
  CLOZE_BLOCK_ROW_LOOP(b, block_count) {
    const Block block = blocks[b];
    const bool decayed = tensors[block.tensor].decayed;
    const float scale = step_size[block.tensor];
    for (int64_t i = block.begin + threadIdx.x; i < block.end; i += blockDim.x) {
      const float u = lamb_direction(m[i], v[i], p[i], s.epsilon, s.weight_decay, decayed);
      p[i] = __fsub_rn(p[i], __fmul_rn(scale, u));
    }
  }
}

// Optimizer blocks are 32768 elements: 512 threads give each 64 elements.
constexpr int kOptimizerThreads = 512;

}  // namespace

DeviceStatus FusedOptimizer::Create(const std::vector<OptimizerTensor>& tensors,
                                    int64_t total_size,
                                    std::unique_ptr<FusedOptimizer>* optimizer) {
  optimizer->reset();
  std::vector<Block> blocks;
  std::vector<Tensor> table;
  int64_t next = 0;
  for (size_t t = 0; t < tensors.size(); ++t) {
    const OptimizerTensor& tensor = tensors[t];
    if (tensor.offset != next || tensor.size < 0) {
      return {"FusedOptimizer: tensor " + std::to_string(t) + " at offset " +
              std::to_string(tensor.offset) + " (size " + std::to_string(tensor.size) +
              ") does not follow the previous one, which ends at " + std::to_string(next)};
    }
    Tensor entry{static_cast<int32_t>(blocks.size()), 0, tensor.decayed};
    for (int64_t begin = tensor.offset; begin < tensor.offset + tensor.size; begin += kBlock) {
      blocks.push_back({begin, std::min(begin + kBlock, tensor.offset + tensor.size),
                        static_cast<int32_t>(t)});
      ++entry.blocks;
    }
    table.push_back(entry);
    next = tensor.offset + tensor.size;
  }
  if (next != total_size) {
    return {"FusedOptimizer: tensors cover " + std::to_string(next) + " of total_size " +
            std::to_string(total_size)};
  }
  auto state = std::make_unique<DeviceState>();
  state->blocks = static_cast<int64_t>(blocks.size());
  state->tensors = static_cast<int64_t>(table.size());
  CLOZE_RETURN_IF_DEVICE_ERROR(upload(&state->block_table, blocks));
  CLOZE_RETURN_IF_DEVICE_ERROR(upload(&state->tensor_table, table));
  void* p = nullptr;
  CLOZE_RETURN_IF_DEVICE_ERROR(device_alloc(&p, blocks.size() * sizeof(double)));
  state->param_squares = static_cast<double*>(p);
  CLOZE_RETURN_IF_DEVICE_ERROR(device_alloc(&p, blocks.size() * sizeof(double)));
  state->update_squares = static_cast<double*>(p);
  CLOZE_RETURN_IF_DEVICE_ERROR(device_alloc(&p, table.size() * sizeof(float)));
  state->step_size = static_cast<float*>(p);
  optimizer->reset(new FusedOptimizer(state.release()));
  return {};
}

FusedOptimizer::~FusedOptimizer() { delete state_; }

void FusedOptimizer::AdamWStep(float* params, const float* grads, float* exp_avg,
                               float* exp_avg_sq, const OptimizerHyperparameters& h,
                               float learning_rate, int64_t completed_steps) {
  if (state_->blocks == 0) return;
  // Scalars as kernels/cpu/optimizer.cc forms them: in double, then used as float.
  const double t = static_cast<double>(completed_steps + 1);
  const double lr = learning_rate;
  AdamWScalars s;
  s.beta1 = h.beta1;
  s.beta2 = h.beta2;
  s.one_minus_beta1 = static_cast<float>(1.0 - h.beta1);
  s.one_minus_beta2 = static_cast<float>(1.0 - h.beta2);
  s.epsilon = h.epsilon;
  s.step_size = static_cast<float>(lr / (1.0 - std::pow(double{h.beta1}, t)));
  s.correction2_sqrt = static_cast<float>(std::sqrt(1.0 - std::pow(double{h.beta2}, t)));
  s.decay = static_cast<float>(1.0 - lr * h.weight_decay);
  adamw_kernel<<<row_grid_for(state_->blocks), kOptimizerThreads>>>(
      state_->block_table, state_->blocks, state_->tensor_table, params, grads, exp_avg,
      exp_avg_sq, s);
}

void FusedOptimizer::LambStep(float* params, const float* grads, float* exp_avg,
                              float* exp_avg_sq, const OptimizerHyperparameters& h,
                              float learning_rate) {
  if (state_->blocks == 0) return;
  LambScalars s;
  s.beta1 = h.beta1;
  s.beta2 = h.beta2;
  // As TF: 1 − β is formed in double (Python) and used as a float32 constant.
  s.one_minus_beta1 = static_cast<float>(1.0 - h.beta1);
  s.one_minus_beta2 = static_cast<float>(1.0 - h.beta2);
  s.epsilon = h.epsilon;
  s.weight_decay = h.weight_decay;
  const int grid = row_grid_for(state_->blocks);
  lamb_moments_kernel<<<grid, kOptimizerThreads>>>(
      state_->block_table, state_->blocks, state_->tensor_table, params, grads, exp_avg,
      exp_avg_sq, s, state_->param_squares, state_->update_squares);
  lamb_step_size_kernel<<<grid_for(state_->tensors), kThreads>>>(
      state_->tensor_table, state_->tensors, state_->param_squares, state_->update_squares,
      learning_rate, state_->step_size);
  lamb_apply_kernel<<<grid, kOptimizerThreads>>>(state_->block_table, state_->blocks,
                                                 state_->tensor_table, params, exp_avg,
                                                 exp_avg_sq, s, state_->step_size);
}

}  // namespace cloze::cuda
