// The float payloads of the parameter-server protocol (proto/parameter_server.proto),
// shared by the server and its client: chunk size, message size limits, and the copy
// between float spans and `bytes` fields.
#ifndef CLOZE_RPC_PARAMETER_CHUNKS_H_
#define CLOZE_RPC_PARAMETER_CHUNKS_H_

#include <bit>
#include <cstdint>
#include <cstring>
#include <span>
#include <string>

namespace cloze {

static_assert(std::endian::native == std::endian::little,
              "the parameter-server protocol sends float32 little-endian, as memory holds it");

// Floats per chunk: 4 MiB of values. Large enough that per-message costs vanish, small
// enough to pipeline and to keep each side's buffers small.
inline constexpr int64_t kMaxChunkFloats = int64_t{1} << 20;
// Both sides accept messages up to a chunk plus room for the other fields, and refuse
// anything larger (RESOURCE_EXHAUSTED, before the handler sees it).
inline constexpr int kMaxParameterMessageBytes = static_cast<int>(kMaxChunkFloats * 4 + 64 * 1024);
// Loss statistics per push: a handful in practice.
inline constexpr int kMaxStatistics = 1024;

inline void SetFloatBytes(std::span<const float> values, std::string* bytes) {
  bytes->assign(reinterpret_cast<const char*>(values.data()), values.size() * sizeof(float));
}

// Copies whole floats; the caller has checked bytes.size() % 4 == 0 and the destination's size.
inline void CopyFloatBytes(const std::string& bytes, float* destination) {
  std::memcpy(destination, bytes.data(), bytes.size());
}

}  // namespace cloze

#endif  // CLOZE_RPC_PARAMETER_CHUNKS_H_
