// Reads the server's Prometheus /metrics for end-to-end tests.
#ifndef SECUREBERT_TESTS_E2E_METRICS_SCRAPE_H_
#define SECUREBERT_TESTS_E2E_METRICS_SCRAPE_H_

#include <httplib.h>

#include <map>
#include <sstream>
#include <string>

#include "gtest/gtest.h"

namespace securebert::testing {

// GET http://127.0.0.1:port/path; the status code and body.
inline std::pair<int, std::string> HttpGet(int port, const std::string& path) {
  httplib::Client http("127.0.0.1", port);
  auto res = http.Get(path.c_str());
  if (!res) return {0, ""};
  return {res->status, res->body};
}

// Parses the text exposition into "name{labels}" -> value; fails the test on
// a line that is not a comment or a sample.
inline std::map<std::string, double> ParseMetrics(const std::string& text) {
  std::map<std::string, double> samples;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    const size_t space = line.rfind(' ');
    EXPECT_NE(space, std::string::npos) << line;
    if (space == std::string::npos) continue;
    const std::string value = line.substr(space + 1);
    samples[line.substr(0, space)] = value == "+Inf" ? INFINITY : std::stod(value);
  }
  return samples;
}

inline std::map<std::string, double> ScrapeMetrics(int port) {
  auto [status, body] = HttpGet(port, "/metrics");
  EXPECT_EQ(status, 200);
  return ParseMetrics(body);
}

}  // namespace securebert::testing

#endif  // SECUREBERT_TESTS_E2E_METRICS_SCRAPE_H_
