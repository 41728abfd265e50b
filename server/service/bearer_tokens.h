// BearerTokens: the set of bearer tokens a SecureBert RPC must present
// (--auth_tokens_file), and the check of one call's metadata against it.
//
// The file holds one token per line; blank lines and lines starting with '#'
// are ignored, and surrounding whitespace is trimmed. Only SHA-256 digests
// of the tokens are kept; a presented token is hashed and compared with
// every digest in constant time (CRYPTO_memcmp, no early exit), so neither
// the comparison's time nor its answer says how much of a token matched. The
// refusal is one message whatever was wrong (missing header, malformed, or
// unknown token), and no token is ever logged.
//
// Reload (on SIGHUP) replaces the set atomically; a file that cannot be read
// or holds no token leaves the old set in place and returns the error.
//
// Thread safety: Check may run on any number of threads while Reload runs.
#ifndef SECUREBERT_SERVER_SERVICE_BEARER_TOKENS_H_
#define SECUREBERT_SERVER_SERVICE_BEARER_TOKENS_H_

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"

namespace securebert::service {

class BearerTokens {
 public:
  using Digest = std::array<uint8_t, 32>;  // SHA-256

  // Reads `path`; INVALID_ARGUMENT naming it when it cannot be read or holds
  // no token.
  static absl::StatusOr<std::unique_ptr<BearerTokens>> Load(const std::string& path);

  // Re-reads the file; on error keeps the current tokens. Returns the count
  // now in force.
  absl::StatusOr<size_t> Reload() ABSL_LOCKS_EXCLUDED(mu_);

  // OK when `authorization` (the header's value, empty when absent) is
  // "Bearer <token>" for a token in the set; else UNAUTHENTICATED.
  absl::Status Check(absl::string_view authorization) const ABSL_LOCKS_EXCLUDED(mu_);

  size_t size() const ABSL_LOCKS_EXCLUDED(mu_);

 private:
  using Set = std::vector<Digest>;
  BearerTokens(std::string path, std::shared_ptr<const Set> tokens);
  static absl::StatusOr<std::shared_ptr<const Set>> Read(const std::string& path);
  std::shared_ptr<const Set> Current() const ABSL_LOCKS_EXCLUDED(mu_);

  const std::string path_;  // constant after construction
  mutable absl::Mutex mu_;
  std::shared_ptr<const Set> tokens_ ABSL_GUARDED_BY(mu_);  // replaced whole by Reload
};

}  // namespace securebert::service

#endif  // SECUREBERT_SERVER_SERVICE_BEARER_TOKENS_H_
