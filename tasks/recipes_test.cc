#include "tasks/recipes.h"

#include "gtest/gtest.h"

namespace cloze {
namespace {

TEST(Recipes, AlbertGlueSettingsAsPublished) {
  // run_glue.sh: run_task RTE 200 3e-5 800 100 32 (warmup, lr, steps, save, batch).
  absl::StatusOr<std::optional<TaskRecipe>> rte = FindTaskRecipe("albert", "RTE");
  ASSERT_TRUE(rte.ok()) << rte.status();
  ASSERT_TRUE(rte->has_value());
  EXPECT_DOUBLE_EQ((*rte)->learning_rate, 3e-5);
  EXPECT_EQ((*rte)->batch_size, 32);
  EXPECT_EQ((*rte)->total_steps, 800);
  EXPECT_EQ((*rte)->warmup_steps, 200);
  EXPECT_EQ((*rte)->max_seq_length, 512);
  EXPECT_FLOAT_EQ((*rte)->encoder_dropout, 0.1f);
}

TEST(Recipes, TaskNamesAsFinetuneTakesThem) {
  for (const char* name : {"STS-B", "sts-b", "stsb", "STS_B"}) {
    absl::StatusOr<std::optional<TaskRecipe>> r = FindTaskRecipe("albert", name);
    ASSERT_TRUE(r.ok() && r->has_value()) << name;
    EXPECT_EQ((*r)->total_steps, 3598) << name;
  }
  absl::StatusOr<std::optional<TaskRecipe>> v2 = FindTaskRecipe("albert", "squad_v2");
  ASSERT_TRUE(v2.ok() && v2->has_value());
  EXPECT_EQ((*v2)->batch_size, 48);
}

TEST(Recipes, TaskWithoutEntryFallsBack) {
  absl::StatusOr<std::optional<TaskRecipe>> pos = FindTaskRecipe("albert", "pos");
  ASSERT_TRUE(pos.ok());
  EXPECT_FALSE(pos->has_value());
}

TEST(Recipes, UnknownRecipeNamed) {
  absl::StatusOr<std::optional<TaskRecipe>> r = FindTaskRecipe("roberta", "RTE");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("roberta"), std::string::npos);
  EXPECT_NE(r.status().message().find("albert"), std::string::npos);
}

}  // namespace
}  // namespace cloze
