// SHA-256 (OpenSSL's libcrypto): tokenizer fingerprints and shard content digests.
#ifndef CLOZE_UTIL_SHA256_H_
#define CLOZE_UTIL_SHA256_H_

#include <string>
#include <string_view>

namespace cloze::util {

// The SHA-256 of `bytes` as 64 lower-case hex digits.
std::string Sha256Hex(std::string_view bytes);

}  // namespace cloze::util

#endif  // CLOZE_UTIL_SHA256_H_
