#include "client/load/load_report.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace securebert::client {
namespace {

using ::testing::HasSubstr;

LoadReport Report() {
  LoadStats stats;
  for (int ms = 1; ms <= 10; ++ms) {
    stats.Record(absl::Milliseconds(ms), absl::OkStatus(), 100, absl::Microseconds(500));
  }
  stats.Record(absl::Milliseconds(20), absl::UnavailableError("draining"), 0);
  LoadReport report;
  report.call = "embed";
  report.target = "127.0.0.1:50051";
  report.concurrency = 4;
  report.connections = 1;
  report.data = "generated";
  report.token_source = "server";
  report.total = absl::Seconds(2);
  report.stats = stats.Summarize();
  return report;
}

TEST(LoadReportTest, JsonHasTheSummary) {
  const nlohmann::json json = nlohmann::json::parse(FormatReportJson(Report()));
  EXPECT_EQ(json["call"], "embed");
  EXPECT_EQ(json["count"], 11);
  EXPECT_EQ(json["ok"], 10);
  EXPECT_EQ(json["errors"], 1);
  EXPECT_DOUBLE_EQ(json["total_ms"].get<double>(), 2000.0);
  EXPECT_DOUBLE_EQ(json["rps"].get<double>(), 5.5);
  EXPECT_DOUBLE_EQ(json["tokens_per_s"].get<double>(), 500.0);
  EXPECT_DOUBLE_EQ(json["latency_ms"]["p50"].get<double>(), 6.0);
  EXPECT_DOUBLE_EQ(json["latency_ms"]["max"].get<double>(), 20.0);
  EXPECT_EQ(json["status_codes"]["OK"], 10);
  EXPECT_EQ(json["status_codes"]["UNAVAILABLE"], 1);
  EXPECT_EQ(json["error_samples"][0]["message"], "draining");
  EXPECT_EQ(json["outside_model_ms"]["requests"], 10);
  EXPECT_DOUBLE_EQ(json["outside_model_ms"]["p50"].get<double>(), 4.5);
  int64_t in_histogram = 0;
  for (const auto& bucket : json["histogram"]) in_histogram += bucket["count"].get<int64_t>();
  EXPECT_EQ(in_histogram, 11);
}

TEST(LoadReportTest, TextReadsLikeGhz) {
  const std::string text = FormatReportText(Report());
  EXPECT_THAT(text, HasSubstr("  Count:         11\n"));
  EXPECT_THAT(text, HasSubstr("  Requests/sec:  5.50\n"));
  EXPECT_THAT(text, HasSubstr("  Tokens/sec:    500.0 (1000 tokens, counted by server)\n"));
  EXPECT_THAT(text, HasSubstr("  99 % in 20.00 ms\n"));
  EXPECT_THAT(text, HasSubstr("  [OK]\t10 responses\n"));
  EXPECT_THAT(text, HasSubstr("  [1]\tUNAVAILABLE: draining\n"));
}

}  // namespace
}  // namespace securebert::client
