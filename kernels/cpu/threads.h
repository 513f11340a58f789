// How many threads the CPU ops use: OpenMP's pool, which both the ops' parallel loops and
// OpenBLAS's matrix products run on (Debian's openblas-openmp build). Without a call the
// count is OpenMP's default: OMP_NUM_THREADS, or one per hardware thread.
#ifndef CLOZE_KERNELS_CPU_THREADS_H_
#define CLOZE_KERNELS_CPU_THREADS_H_

namespace cloze::cpu {

// Sets the count for the whole process; `threads` must be at least 1.
void SetCpuThreads(int threads);

// The count a parallel region would get now.
int CpuThreads();

}  // namespace cloze::cpu

#endif  // CLOZE_KERNELS_CPU_THREADS_H_
