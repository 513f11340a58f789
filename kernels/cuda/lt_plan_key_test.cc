// The plan key (lt_plan_key.h) without a GPU: what makes two products share a cached
// cuBLASLt plan, and the GELU epilogues' aux constraints. Fake addresses stand in for
// device pointers; nothing is dereferenced.
#include "kernels/cuda/lt_plan_key.h"

#include <cstdint>

#include "gtest/gtest.h"

namespace cloze::cuda {
namespace {

// A fake device address with exactly `alignment` bytes of alignment (a power of two).
template <typename T = void>
T* At(uintptr_t base, uint32_t alignment) {
  return reinterpret_cast<T*>(base * 512 + alignment);
}

// An FFN forward product (weight (oc × c) transposed, inp, out) with a bias.
LtProduct Forward(uintptr_t base = 1) {
  return {.input_type = LtInputType::kFp32,
          .trans_a = true,
          .trans_b = false,
          .m = 3072,
          .n = 1024,
          .k = 768,
          .a = At(base, 256),
          .lda = 768,
          .b = At(base + 1, 256),
          .ldb = 768,
          .beta = 0.0f,
          .d = At<float>(base + 2, 256),
          .ldd = 3072,
          .epilogue = LtEpilogue::kBias,
          .bias = At<float>(base + 3, 256)};
}

TEST(AlignmentOfTest, LargestPowerOfTwoUpTo256) {
  EXPECT_EQ(alignment_of(nullptr), 256u);
  EXPECT_EQ(alignment_of(At(1, 256)), 256u);
  EXPECT_EQ(alignment_of(reinterpret_cast<void*>(4096 + 512)), 256u);
  EXPECT_EQ(alignment_of(At(1, 16)), 16u);
  EXPECT_EQ(alignment_of(At(1, 4)), 4u);
  EXPECT_EQ(alignment_of(At(1, 2)), 2u);
  EXPECT_EQ(alignment_of(reinterpret_cast<void*>(4097)), 1u);
  // A float slice one element into a 256-aligned buffer: what a flat parameter buffer gives.
  const float* base = At<float>(7, 256);
  EXPECT_EQ(alignment_of(base + 1), 4u);
  EXPECT_EQ(alignment_of(base + 4), 16u);
  EXPECT_EQ(alignment_of(base + 64), 256u);
}

// The pointer values do not matter, only their alignment: the plan serves other buffers.
TEST(PlanKeyTest, OtherBuffersOfTheSameAlignmentShareThePlan) {
  EXPECT_EQ(plan_key_of(Forward(1)), plan_key_of(Forward(100)));
}

TEST(PlanKeyTest, EveryAlignmentTheHeuristicSeesIsInTheKey) {
  const LtPlanKey key = plan_key_of(Forward());
  auto changed = [&](auto edit) {
    LtProduct p = Forward();
    edit(p);
    return plan_key_of(p) != key;
  };
  EXPECT_TRUE(changed([](LtProduct& p) { p.a = At(9, 4); }));
  EXPECT_TRUE(changed([](LtProduct& p) { p.b = At(9, 8); }));
  EXPECT_TRUE(changed([](LtProduct& p) { p.d = At<float>(9, 16); }));
  EXPECT_TRUE(changed([](LtProduct& p) { p.bias = At<float>(9, 4); }));
}

TEST(PlanKeyTest, EveryShapeTypeAndEpilogueFieldIsInTheKey) {
  const LtPlanKey key = plan_key_of(Forward());
  auto changed = [&](auto edit) {
    LtProduct p = Forward();
    edit(p);
    return plan_key_of(p) != key;
  };
  EXPECT_TRUE(changed([](LtProduct& p) { p.input_type = LtInputType::kBf16; }));
  EXPECT_TRUE(changed([](LtProduct& p) { p.trans_a = false; }));
  EXPECT_TRUE(changed([](LtProduct& p) { p.trans_b = true; }));
  EXPECT_TRUE(changed([](LtProduct& p) { p.m = 3071; }));
  EXPECT_TRUE(changed([](LtProduct& p) { p.n = 1023; }));
  EXPECT_TRUE(changed([](LtProduct& p) { p.k = 769; }));
  EXPECT_TRUE(changed([](LtProduct& p) { p.lda = 800; }));
  EXPECT_TRUE(changed([](LtProduct& p) { p.ldb = 800; }));
  EXPECT_TRUE(changed([](LtProduct& p) { p.ldd = 3080; }));
  EXPECT_TRUE(changed([](LtProduct& p) { p.beta = 1.0f; }));
  EXPECT_TRUE(changed([](LtProduct& p) { p.epilogue = LtEpilogue::kNone; }));
  EXPECT_TRUE(changed([](LtProduct& p) {
    p.epilogue = LtEpilogue::kGeluAuxBias;
    p.aux = At<float>(9, 256);
    p.aux_ld = 3072;
  }));
}

// beta's value does not matter to the plan, only whether C is read.
TEST(PlanKeyTest, AnyNonzeroBetaSharesThePlan) {
  LtProduct one = Forward(), two = Forward();
  one.beta = 1.0f;
  two.beta = 0.5f;
  EXPECT_EQ(plan_key_of(one), plan_key_of(two));
}

// Pointers and leading dimensions an epilogue does not use must not split the cache.
TEST(PlanKeyTest, UnusedEpiloguePointersAreIgnored) {
  LtProduct plain = Forward(), stray = Forward();
  plain.epilogue = stray.epilogue = LtEpilogue::kNone;
  plain.bias = nullptr;
  stray.bias = At<float>(9, 4);
  stray.aux = At<float>(9, 2);
  stray.aux_ld = 13;
  EXPECT_EQ(plan_key_of(plain), plan_key_of(stray));
  EXPECT_EQ(plan_key_of(stray).align_bias, 0u);
  EXPECT_EQ(plan_key_of(stray).align_aux, 0u);
}

TEST(PlanKeyTest, AuxLeadingDimensionAndAlignmentAreInTheKey) {
  LtProduct p = Forward();
  p.epilogue = LtEpilogue::kDGelu;
  p.aux = At<float>(9, 256);
  p.aux_ld = 3072;
  const LtPlanKey key = plan_key_of(p);
  EXPECT_EQ(key.aux_ld, 3072);
  EXPECT_EQ(key.align_aux, 256u);
  p.aux = At<float>(9, 16);
  EXPECT_NE(plan_key_of(p), key);
  p.aux = At<float>(9, 256);
  p.aux_ld = 3080;
  EXPECT_NE(plan_key_of(p), key);
}

TEST(EpilogueTest, WhichPointersEachEpilogueUses) {
  EXPECT_FALSE(uses_bias(LtEpilogue::kNone));
  EXPECT_FALSE(uses_aux(LtEpilogue::kNone));
  EXPECT_TRUE(uses_bias(LtEpilogue::kBias));
  EXPECT_FALSE(uses_aux(LtEpilogue::kBias));
  EXPECT_FALSE(uses_bias(LtEpilogue::kGeluAux));
  EXPECT_TRUE(uses_aux(LtEpilogue::kGeluAux));
  EXPECT_TRUE(uses_bias(LtEpilogue::kGeluAuxBias));
  EXPECT_TRUE(uses_aux(LtEpilogue::kGeluAuxBias));
  EXPECT_FALSE(uses_bias(LtEpilogue::kDGelu));
  EXPECT_TRUE(uses_aux(LtEpilogue::kDGelu));
}

TEST(GeluAuxFusableTest, LeadingDimensionMultipleOf8AndAlignedBase) {
  EXPECT_TRUE(gelu_aux_fusable(At(1, 256), 3072, 3072));
  EXPECT_TRUE(gelu_aux_fusable(At(1, 16), 8, 8));
  EXPECT_TRUE(gelu_aux_fusable(At(1, 16), 16, 9));  // padded rows are allowed
  EXPECT_FALSE(gelu_aux_fusable(At(1, 256), 129, 129));  // ld not a multiple of 8
  EXPECT_FALSE(gelu_aux_fusable(At(1, 256), 5, 5));
  EXPECT_FALSE(gelu_aux_fusable(At(1, 256), 8, 16));    // ld below the rows of D
  EXPECT_FALSE(gelu_aux_fusable(At(1, 4), 3072, 3072));  // a slice one float in
  EXPECT_FALSE(gelu_aux_fusable(At(1, 8), 3072, 3072));
}

}  // namespace
}  // namespace cloze::cuda
