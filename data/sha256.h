// SHA-256 (OpenSSL's libcrypto): tokenizer fingerprints and shard content digests.
#ifndef CLOZE_DATA_SHA256_H_
#define CLOZE_DATA_SHA256_H_

#include <string>
#include <string_view>

namespace cloze::data {

// The SHA-256 of `bytes` as 64 lower-case hex digits.
std::string Sha256Hex(std::string_view bytes);

}  // namespace cloze::data

#endif  // CLOZE_DATA_SHA256_H_
