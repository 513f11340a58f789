#include <cstdio>

#include "absl/strings/str_format.h"
#include "cli/commands.h"
#include "model/model_config.h"
#include "model/parameter_layout.h"

namespace cloze::cli {
namespace {

std::string Millions(int64_t n) { return absl::StrFormat("%.2fM", n / 1e6); }

void Describe(const std::string& path, const ModelConfig& c) {
  const ParameterLayout layout = BuildParameterLayout(c);
  int64_t embeddings = 0, encoder = 0, heads = 0;
  for (const NamedTensor& t : layout.tensors) {
    if (t.name.find("embeddings.") != std::string::npos ||
        t.name.find("embedding_hidden_mapping_in") != std::string::npos) {
      embeddings += t.size;
    } else if (t.name.find(".encoder.") != std::string::npos) {
      encoder += t.size;
    } else {
      heads += t.size;
    }
  }
  const int64_t total = layout.total_size;
  const std::string sharing =
      c.num_hidden_groups() == c.num_hidden_layers()
          ? "no shared layers"
          : absl::StrFormat("%d shared parameter group(s)", c.num_hidden_groups());
  std::printf("%s: %s, %d layers (%s), hidden %d, embedding %d, %d heads, ffn %d, vocab %d, %s\n",
              path.c_str(), c.model_type().c_str(), c.num_hidden_layers(), sharing.c_str(),
              c.hidden_size(), c.embedding_size(), c.num_attention_heads(), c.intermediate_size(),
              c.vocab_size(), c.hidden_act().c_str());
  std::printf("  parameters %s (%lld): embeddings %s, encoder %s, heads %s\n", Millions(total).c_str(),
              static_cast<long long>(total), Millions(embeddings).c_str(), Millions(encoder).c_str(),
              Millions(heads).c_str());
  // fp32 parameters + gradients + two optimizer moments.
  std::printf("  training state (fp32 weights, gradients, LAMB/AdamW moments): %.1f MB\n",
              total * 4.0 * 4 / 1e6);
}

}  // namespace

int RunConfigCommand(const std::vector<std::string>& args) {
  if (args.empty()) {
    std::fprintf(stderr, "usage: cloze config CONFIG...\n");
    return 2;
  }
  int status = 0;
  for (const std::string& path : args) {
    absl::StatusOr<ModelConfig> config = LoadModelConfig(path);
    if (!config.ok()) {
      std::fprintf(stderr, "cloze config: %s\n", std::string(config.status().message()).c_str());
      status = 1;
      continue;
    }
    Describe(path, *config);
  }
  return status;
}

}  // namespace cloze::cli
