#include "client/load/text_generator.h"

#include <algorithm>
#include <cctype>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"

namespace securebert::client {
namespace {

// Word lists the templates draw from.
const std::vector<absl::string_view> kActors = {"APT29",
                                                "Lazarus Group",
                                                "FIN7",
                                                "a ransomware affiliate",
                                                "the threat actor",
                                                "an initial access broker",
                                                "Sandworm",
                                                "a financially motivated group"};
const std::vector<absl::string_view> kMalware = {
    "Emotet",          "TrickBot", "Cobalt Strike beacon", "QakBot", "LockBit",
    "a custom loader", "Mimikatz", "a PowerShell stager"};
const std::vector<absl::string_view> kCves = {"CVE-2021-44228", "CVE-2023-23397", "CVE-2017-0144",
                                              "CVE-2022-30190", "CVE-2019-19781", "CVE-2020-1472"};
const std::vector<absl::string_view> kProducts = {
    "Apache Log4j",          "Microsoft Exchange",      "the VPN appliance", "Citrix ADC",
    "the domain controller", "an unpatched web server", "Outlook",           "the SMB service"};
const std::vector<absl::string_view> kTechniques = {"spearphishing attachments",
                                                    "credential dumping",
                                                    "DLL side-loading",
                                                    "scheduled task persistence",
                                                    "lateral movement over SMB",
                                                    "process injection",
                                                    "living off the land binaries",
                                                    "pass-the-hash"};
const std::vector<absl::string_view> kGoals = {"gain remote code execution", "escalate privileges",
                                               "exfiltrate sensitive data",  "deploy ransomware",
                                               "establish persistence",      "harvest credentials",
                                               "evade endpoint detection"};
const std::vector<absl::string_view> kDefences = {
    "Security teams should monitor", "Defenders can detect this by reviewing",
    "Incident responders recommend auditing", "SOC analysts triaged alerts from"};
const std::vector<absl::string_view> kSources = {
    "Windows event logs", "EDR telemetry",   "DNS queries",
    "proxy logs",         "NetFlow records", "Sysmon process creation events"};
const std::vector<absl::string_view> kIndicators = {"malicious domains",
                                                    "command and control servers", "file hashes",
                                                    "phishing URLs", "suspicious IP addresses"};

constexpr char kMask[] = "<mask>";

}  // namespace

CyberTextGenerator::CyberTextGenerator(const Options& options)
    : options_(options), rng_(options.seed) {}

size_t CyberTextGenerator::Pick(size_t n) { return static_cast<size_t>(rng_() % n); }

std::vector<std::string> CyberTextGenerator::Sentence() {
  auto pick = [this](const std::vector<absl::string_view>& list) {
    return list[Pick(list.size())];
  };
  std::string sentence;
  switch (Pick(4)) {
    case 0:
      sentence = absl::StrCat(pick(kActors), " exploited ", pick(kCves), " in ", pick(kProducts),
                              " to ", pick(kGoals), ".");
      break;
    case 1:
      sentence = absl::StrCat("The ", pick(kMalware), " sample relies on ", pick(kTechniques),
                              " and beacons to ", pick(kIndicators), " over HTTPS.");
      break;
    case 2:
      sentence = absl::StrCat(pick(kDefences), " ", pick(kSources), " for signs of ",
                              pick(kTechniques), ".");
      break;
    default:
      sentence =
          absl::StrCat("Analysts linked ", 2 + Pick(40), " ", pick(kIndicators), " to ",
                       pick(kActors), ", who used ", pick(kMalware), " to ", pick(kGoals), ".");
      break;
  }
  return absl::StrSplit(sentence, ' ', absl::SkipEmpty());
}

std::string CyberTextGenerator::Next() {
  const int span = std::max(options_.max_tokens - options_.min_tokens, 0);
  const int target = options_.min_tokens + static_cast<int>(Pick(span + 1));
  std::vector<std::string> words;
  int tokens = 2;  // <s> and </s>.
  bool full = false;
  while (!full) {
    for (std::string& word : Sentence()) {
      const int cost = EstimateWordTokens(word);
      // The first word always fits, so no text is empty.
      full = !words.empty() && tokens + cost > target;
      if (full) break;
      tokens += cost;
      words.push_back(std::move(word));
    }
  }
  if (options_.insert_mask) {
    words[Pick(words.size())] = kMask;
  }
  return absl::StrJoin(words, " ");
}

int CyberTextGenerator::EstimateWordTokens(absl::string_view word) {
  if (word == kMask) return 1;
  int letters = 0;
  int others = 0;  // Digits and punctuation split into tokens of their own.
  for (char c : word) {
    if (std::isalpha(static_cast<unsigned char>(c))) {
      ++letters;
    } else {
      ++others;
    }
  }
  return std::max(1, (letters + 7) / 8 + (others + 1) / 2);
}

int CyberTextGenerator::EstimateTokens(absl::string_view text) {
  int tokens = 2;
  for (absl::string_view word : absl::StrSplit(text, ' ', absl::SkipEmpty())) {
    tokens += EstimateWordTokens(word);
  }
  return tokens;
}

}  // namespace securebert::client
