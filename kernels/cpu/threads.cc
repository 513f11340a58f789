#include "kernels/cpu/threads.h"

#include <cblas.h>
#include <omp.h>

namespace cloze::cpu {

void SetCpuThreads(int threads) {
  omp_set_num_threads(threads);
  // A pthreads build of OpenBLAS keeps its own pool; this sets it too (a no-op for the
  // OpenMP build, which reads the count above).
  openblas_set_num_threads(threads);
}

int CpuThreads() { return omp_get_max_threads(); }

}  // namespace cloze::cpu
