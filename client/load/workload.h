// Workload: the texts securebert-load sends, cycled in order, and how many
// tokens each one is. Texts come from a JSONL file ({"text": ...} per line)
// or from CyberTextGenerator. Token counts come from the server's Tokenize
// RPC when it answers, else from CyberTextGenerator's estimate; they are
// used for tokens/s where the response does not report tokens
// (PredictMask).
//
// Thread safety: build and CountTokens on one thread; after that the
// workload is read-only and may be shared by all completion threads.
#ifndef SECUREBERT_CLIENT_LOAD_WORKLOAD_H_
#define SECUREBERT_CLIENT_LOAD_WORKLOAD_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "client/load/text_generator.h"
#include "client/request_settings.h"
#include "client/securebert_client.h"

namespace securebert::client {

// Where Workload's token counts came from.
enum class TokenSource { kEstimate, kTokenize };

class Workload {
 public:
  // Reads `path`, one JSON object with a string "text" per non-empty line.
  // With `ensure_mask`, a text without "<mask>" gets its middle word
  // replaced by one. INVALID_ARGUMENT names the bad line; NOT_FOUND for an
  // unreadable file.
  static absl::StatusOr<Workload> FromJsonl(const std::string& path, bool ensure_mask);

  // `count` texts from a generator with `options`.
  static Workload Generated(const CyberTextGenerator::Options& options, int count);

  // Uses `texts` as they are (non-empty).
  explicit Workload(std::vector<std::string> texts);

  // Asks the server to tokenize every text, `batch` texts per call, with
  // `settings`' truncation. On failure keeps the estimates and returns the
  // error (the caller decides whether that matters).
  absl::Status CountTokens(const SecureBertClient& client, const RequestSettings& settings,
                           int batch);

  size_t size() const { return texts_.size(); }
  // The index-th text, cycling.
  const std::string& text(int64_t index) const { return texts_[index % texts_.size()]; }
  // Its tokens, <s> and </s> included.
  int64_t tokens(int64_t index) const { return tokens_[index % tokens_.size()]; }
  TokenSource token_source() const { return token_source_; }

 private:
  std::vector<std::string> texts_;
  std::vector<int64_t> tokens_;
  TokenSource token_source_ = TokenSource::kEstimate;
};

}  // namespace securebert::client

#endif  // SECUREBERT_CLIENT_LOAD_WORKLOAD_H_
