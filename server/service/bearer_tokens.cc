#include "service/bearer_tokens.h"

#include <openssl/crypto.h>
#include <openssl/sha.h>

#include <fstream>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace securebert::service {
namespace {

constexpr absl::string_view kScheme = "Bearer ";

BearerTokens::Digest Sha256(absl::string_view text) {
  BearerTokens::Digest digest;
  SHA256(reinterpret_cast<const unsigned char*>(text.data()), text.size(), digest.data());
  return digest;
}

}  // namespace

BearerTokens::BearerTokens(std::string path, std::shared_ptr<const Set> tokens)
    : path_(std::move(path)), tokens_(std::move(tokens)) {}

absl::StatusOr<std::shared_ptr<const BearerTokens::Set>> BearerTokens::Read(
    const std::string& path) {
  std::ifstream in(path);
  if (!in) {
    return absl::InvalidArgumentError(absl::StrCat("--auth_tokens_file ", path, ": cannot read"));
  }
  auto tokens = std::make_shared<Set>();
  std::string line;
  while (std::getline(in, line)) {
    const absl::string_view token = absl::StripAsciiWhitespace(line);
    if (token.empty() || token[0] == '#') continue;
    tokens->push_back(Sha256(token));
  }
  if (in.bad()) {
    return absl::InvalidArgumentError(absl::StrCat("--auth_tokens_file ", path, ": read error"));
  }
  if (tokens->empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("--auth_tokens_file ", path, ": holds no token (it would refuse every call)"));
  }
  return std::shared_ptr<const Set>(std::move(tokens));
}

absl::StatusOr<std::unique_ptr<BearerTokens>> BearerTokens::Load(const std::string& path) {
  absl::StatusOr<std::shared_ptr<const Set>> tokens = Read(path);
  if (!tokens.ok()) return tokens.status();
  return std::unique_ptr<BearerTokens>(new BearerTokens(path, *std::move(tokens)));
}

absl::StatusOr<size_t> BearerTokens::Reload() {
  absl::StatusOr<std::shared_ptr<const Set>> tokens = Read(path_);
  if (!tokens.ok()) return tokens.status();
  const size_t count = (*tokens)->size();
  absl::MutexLock lock(&mu_);
  tokens_ = *std::move(tokens);
  return count;
}

std::shared_ptr<const BearerTokens::Set> BearerTokens::Current() const {
  absl::MutexLock lock(&mu_);
  return tokens_;
}

size_t BearerTokens::size() const { return Current()->size(); }

absl::Status BearerTokens::Check(absl::string_view authorization) const {
  // Hashing first makes every comparison the same length, whatever was sent.
  const bool has_scheme = absl::StartsWith(authorization, kScheme);
  const Digest presented = Sha256(has_scheme ? authorization.substr(kScheme.size()) : "");
  int matches = 0;
  for (const Digest& token : *Current()) {
    matches |= CRYPTO_memcmp(token.data(), presented.data(), token.size()) == 0 ? 1 : 0;
  }
  if (has_scheme && matches != 0) return absl::OkStatus();
  return absl::UnauthenticatedError("missing or invalid bearer token");
}

}  // namespace securebert::service
