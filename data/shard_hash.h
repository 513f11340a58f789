// The content hash of a shard: SHA-256 (OpenSSL's EVP API) over its example records.
#ifndef CLOZE_DATA_SHARD_HASH_H_
#define CLOZE_DATA_SHARD_HASH_H_

#include <memory>
#include <string>

#include "absl/strings/string_view.h"

namespace cloze::data {

// Streams example records, in key order, into SHA-256. Each record contributes
//   key bytes (8) || value length (8-byte big-endian) || value bytes,
// the length making the encoding unambiguous. The metadata record is not hashed (it holds
// the hash). Memory is constant whatever the number of records. Not thread-safe.
class ContentHasher {
 public:
  ContentHasher();
  ~ContentHasher();
  ContentHasher(const ContentHasher&) = delete;
  ContentHasher& operator=(const ContentHasher&) = delete;

  void AddRecord(absl::string_view key, absl::string_view value);

  // The lowercase hex digest (64 characters) of every record added. Call once; the hasher
  // is then spent (further calls are programmer errors and abort).
  std::string HexDigest();

 private:
  struct Context;
  std::unique_ptr<Context> context_;
};

// The lowercase hex SHA-256 of `bytes`; for fingerprints made of small strings.
std::string Sha256Hex(absl::string_view bytes);

}  // namespace cloze::data

#endif  // CLOZE_DATA_SHARD_HASH_H_
