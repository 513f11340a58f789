// The encoder's input embedding: word + position + token-type vectors, summed.
//
// Shapes (B = batch, T = sequence length, C = embedding width):
//   ids, type_ids (B, T); word (V, C); position (P ≥ T, C); type (TV, C); out (B, T, C).
// Token (b, t) sits at position t. Ids must be in range (the model validates batches).
// Forward overwrites out. Backward ADDS into dword, dposition, dtype; it parallelises
// over columns, so the scatter-add has no races and sums rows in a fixed order. Tokens whose
// id is padding_id add nothing to dword (PyTorch's nn.Embedding(padding_idx)); a negative
// padding_id means none.
#ifndef CLOZE_KERNELS_CPU_EMBEDDING_H_
#define CLOZE_KERNELS_CPU_EMBEDDING_H_

#include <cstdint>

namespace cloze::cpu {

template <typename T>
void embedding_forward(T* out, const int32_t* ids, const int32_t* type_ids, const T* word,
                       const T* position, const T* type, int64_t b, int64_t t, int64_t c);

template <typename T>
void embedding_backward(T* dword, T* dposition, T* dtype, const T* dout, const int32_t* ids,
                        const int32_t* type_ids, int64_t b, int64_t t, int64_t c, int32_t padding_id = -1);

}  // namespace cloze::cpu

#endif  // CLOZE_KERNELS_CPU_EMBEDDING_H_
