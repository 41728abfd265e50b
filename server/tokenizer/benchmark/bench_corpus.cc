#include "tokenizer/benchmark/bench_corpus.h"

#include <fstream>
#include <map>
#include <random>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "nlohmann/json.hpp"

namespace securebert::tokenizer {
namespace {

struct Seed {
  std::map<std::string, std::vector<std::string>> slots;  // @NAME choices
  std::vector<std::string> prose;                         // sentence templates
  std::vector<std::string> logs;                          // log line templates
  std::vector<std::string> parity_texts;                  // mixed in as they are
};

absl::Status ReadSeed(const std::string& path, Seed* seed) {
  std::ifstream in(path);
  if (!in) return absl::NotFoundError(absl::StrCat(path, ": cannot open"));
  std::string line;
  while (std::getline(in, line)) {
    absl::string_view rest(line);
    if (rest.empty() || absl::StartsWith(rest, "#")) continue;
    if (absl::ConsumePrefix(&rest, "prose: ")) {
      seed->prose.emplace_back(rest);
    } else if (absl::ConsumePrefix(&rest, "log: ")) {
      seed->logs.emplace_back(rest);
    } else if (absl::ConsumePrefix(&rest, "@")) {
      std::pair<std::string, std::string> slot = absl::StrSplit(rest, absl::MaxSplits(": ", 1));
      for (absl::string_view choice : absl::StrSplit(slot.second, " | ")) {
        seed->slots[slot.first].emplace_back(absl::StripAsciiWhitespace(choice));
      }
    }
  }
  if (seed->prose.empty() || seed->logs.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": no prose or log templates"));
  }
  return absl::OkStatus();
}

absl::Status ReadParityTexts(const std::string& path, Seed* seed) {
  if (path.empty()) return absl::OkStatus();
  absl::StatusOr<std::vector<std::string>> texts = ReadJsonlTexts(path);
  if (!texts.ok()) return texts.status();
  seed->parity_texts = *std::move(texts);
  return absl::OkStatus();
}

class Generator {
 public:
  Generator(const Seed* seed, uint32_t random_seed) : seed_(seed), rng_(random_seed) {}

  std::string Document(size_t target_bytes) {
    std::string doc;
    const uint32_t kind = Uniform(100);
    while (doc.size() < target_bytes) {
      if (kind < 50) {
        if (!doc.empty()) doc += Uniform(6) == 0 ? "\n\n" : " ";
        doc += Fill(Pick(seed_->prose));
      } else if (kind < 85 || seed_->parity_texts.empty()) {
        if (!doc.empty()) doc += "\n";
        doc += Fill(Pick(seed_->logs));
      } else {
        if (!doc.empty()) doc += "\n";
        doc += Pick(seed_->parity_texts);
      }
    }
    return doc;
  }

 private:
  uint32_t Uniform(uint32_t n) { return static_cast<uint32_t>(rng_() % n); }
  const std::string& Pick(const std::vector<std::string>& v) { return v[Uniform(v.size())]; }

  std::string Hex(size_t n) {
    std::string out;
    for (size_t i = 0; i < n; ++i) out += "0123456789abcdef"[Uniform(16)];
    return out;
  }

  std::string Builtin(const std::string& name) {
    if (name == "CVE")
      return absl::StrFormat("CVE-20%02d-%d", 15 + Uniform(11), 1000 + Uniform(60000));
    if (name == "IP") {
      return absl::StrFormat("%d.%d.%d.%d", 1 + Uniform(223), Uniform(256), Uniform(256),
                             1 + Uniform(254));
    }
    if (name == "IP6") return absl::StrCat("2001:db8:", Hex(4), ":", Hex(2), "::", Hex(3));
    if (name == "PORT") return absl::StrCat(1 + Uniform(65535));
    if (name == "PID") return absl::StrCat(100 + Uniform(60000));
    if (name == "MD5") return Hex(32);
    if (name == "SHA1") return Hex(40);
    if (name == "SHA256") return Hex(64);
    if (name == "HEX8") return Hex(8);
    if (name == "B64") {
      std::string out;
      const size_t n = 40 + Uniform(80);
      for (size_t i = 0; i < n; ++i) {
        out += "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"[Uniform(64)];
      }
      return out + "==";
    }
    if (name == "DATE")
      return absl::StrFormat("20%02d-%02d-%02d", 20 + Uniform(6), 1 + Uniform(12), 1 + Uniform(28));
    if (name == "TIME")
      return absl::StrFormat("%02d:%02d:%02d", Uniform(24), Uniform(60), Uniform(60));
    if (name == "NUM") return absl::StrCat(Uniform(Uniform(2) == 0 ? 100 : 100000));
    if (name == "VERSION")
      return absl::StrFormat("%d.%d.%d", 1 + Uniform(12), Uniform(20), Uniform(40));
    if (name == "CVSS") return absl::StrFormat("%d.%d", 4 + Uniform(6), Uniform(10));
    return "";
  }

  // Replaces each {NAME} slot of `pattern`; other braces stay as they are.
  std::string Fill(const std::string& pattern) {
    std::string out;
    size_t pos = 0;
    while (pos < pattern.size()) {
      const size_t open = pattern.find('{', pos);
      const size_t close = open == std::string::npos ? open : pattern.find('}', open);
      if (close == std::string::npos) break;
      const std::string name = pattern.substr(open + 1, close - open - 1);
      out.append(pattern, pos, open - pos);
      const auto slot = seed_->slots.find(name);
      std::string value = slot != seed_->slots.end() ? Pick(slot->second) : Builtin(name);
      if (value.empty() && slot == seed_->slots.end()) {
        out += '{';  // not a slot: JSON or a literal brace
        pos = open + 1;
        continue;
      }
      out += value;
      pos = close + 1;
    }
    out.append(pattern, pos, std::string::npos);
    return out;
  }

  const Seed* seed_;
  std::mt19937 rng_;
};

}  // namespace

absl::StatusOr<std::vector<std::string>> ReadJsonlTexts(const std::string& path) {
  std::ifstream in(path);
  if (!in) return absl::NotFoundError(absl::StrCat(path, ": cannot open"));
  std::vector<std::string> texts;
  std::string line;
  for (int number = 1; std::getline(in, line); ++number) {
    if (line.empty()) continue;
    const nlohmann::json json = nlohmann::json::parse(line, nullptr, false);
    if (!json.is_object() || !json.contains("text") || !json["text"].is_string()) {
      return absl::InvalidArgumentError(
          absl::StrCat(path, ":", number, ": not a JSON object with a \"text\" string"));
    }
    texts.push_back(json["text"].get<std::string>());
  }
  return texts;
}

absl::StatusOr<std::vector<std::string>> MakeBenchCorpus(const BenchCorpusOptions& options) {
  Seed seed;
  absl::Status status = ReadSeed(options.seed_path, &seed);
  if (status.ok()) status = ReadParityTexts(options.parity_path, &seed);
  if (!status.ok()) return status;
  Generator generator(&seed, options.random_seed);
  std::vector<std::string> documents;
  size_t total = 0;
  while (total < options.min_total_bytes) {
    documents.push_back(generator.Document(options.document_bytes));
    total += documents.back().size();
  }
  return documents;
}

}  // namespace securebert::tokenizer
