#include "data/shard_hash.h"

#include <openssl/evp.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>

#include "absl/strings/escaping.h"

namespace cloze::data {
namespace {

// OpenSSL fails here only when out of memory or misbuilt; neither is recoverable input.
void CheckOpenSsl(int ok, const char* what) {
  if (ok == 1) return;
  std::fprintf(stderr, "cloze: OpenSSL %s failed\n", what);
  std::abort();
}

}  // namespace

struct ContentHasher::Context {
  EVP_MD_CTX* md = nullptr;
  bool spent = false;
};

ContentHasher::ContentHasher() : context_(std::make_unique<Context>()) {
  context_->md = EVP_MD_CTX_new();
  CheckOpenSsl(context_->md != nullptr, "EVP_MD_CTX_new");
  CheckOpenSsl(EVP_DigestInit_ex(context_->md, EVP_sha256(), nullptr), "EVP_DigestInit_ex");
}

ContentHasher::~ContentHasher() { EVP_MD_CTX_free(context_->md); }

void ContentHasher::AddRecord(absl::string_view key, absl::string_view value) {
  CheckOpenSsl(!context_->spent, "digest reuse");
  unsigned char length[8];
  const uint64_t n = value.size();
  for (int i = 0; i < 8; ++i) length[i] = static_cast<unsigned char>(n >> (56 - 8 * i));
  CheckOpenSsl(EVP_DigestUpdate(context_->md, key.data(), key.size()), "EVP_DigestUpdate");
  CheckOpenSsl(EVP_DigestUpdate(context_->md, length, sizeof(length)), "EVP_DigestUpdate");
  CheckOpenSsl(EVP_DigestUpdate(context_->md, value.data(), value.size()), "EVP_DigestUpdate");
}

std::string ContentHasher::HexDigest() {
  CheckOpenSsl(!context_->spent, "digest reuse");
  context_->spent = true;
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  CheckOpenSsl(EVP_DigestFinal_ex(context_->md, digest, &size), "EVP_DigestFinal_ex");
  return absl::BytesToHexString(absl::string_view(reinterpret_cast<const char*>(digest), size));
}

std::string Sha256Hex(absl::string_view bytes) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  CheckOpenSsl(EVP_Digest(bytes.data(), bytes.size(), digest, &size, EVP_sha256(), nullptr), "EVP_Digest");
  return absl::BytesToHexString(absl::string_view(reinterpret_cast<const char*>(digest), size));
}

}  // namespace cloze::data
