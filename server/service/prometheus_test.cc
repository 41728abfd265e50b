#include "service/prometheus.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace securebert::service::prometheus {
namespace {

using ::testing::HasSubstr;

TEST(Prometheus, CounterWithLabels) {
  Registry r;
  Family* c = r.Counter("rpc_total", "RPCs.", {"rpc", "code"});
  c->Add({"Embed", "OK"}, 1);
  c->Add({"Embed", "OK"}, 2);
  c->Add({"Tokenize", "INVALID_ARGUMENT"}, 1);
  EXPECT_EQ(c->Value({"Embed", "OK"}), 3);
  const std::string text = r.Render();
  EXPECT_THAT(text, HasSubstr("# HELP rpc_total RPCs.\n# TYPE rpc_total counter\n"));
  EXPECT_THAT(text, HasSubstr("rpc_total{rpc=\"Embed\",code=\"OK\"} 3\n"));
  EXPECT_THAT(text, HasSubstr("rpc_total{rpc=\"Tokenize\",code=\"INVALID_ARGUMENT\"} 1\n"));
}

TEST(Prometheus, GaugeSetAndAddWithoutLabels) {
  Registry r;
  Family* g = r.Gauge("depth", "Queue depth.");
  g->Set({}, 5);
  g->Add({}, -2);
  EXPECT_THAT(r.Render(), HasSubstr("depth 3\n"));
}

TEST(Prometheus, HistogramBucketsAreCumulative) {
  Registry r;
  Family* h = r.Histogram("latency_seconds", "Latency.", {0.1, 1.0}, {"rpc"});
  h->Observe({"Embed"}, 0.05);
  h->Observe({"Embed"}, 0.5);
  h->Observe({"Embed"}, 5);
  const std::string text = r.Render();
  EXPECT_THAT(text, HasSubstr("latency_seconds_bucket{rpc=\"Embed\",le=\"0.1\"} 1\n"));
  EXPECT_THAT(text, HasSubstr("latency_seconds_bucket{rpc=\"Embed\",le=\"1\"} 2\n"));
  EXPECT_THAT(text, HasSubstr("latency_seconds_bucket{rpc=\"Embed\",le=\"+Inf\"} 3\n"));
  EXPECT_THAT(text, HasSubstr("latency_seconds_sum{rpc=\"Embed\"} 5.55\n"));
  EXPECT_THAT(text, HasSubstr("latency_seconds_count{rpc=\"Embed\"} 3\n"));
}

TEST(Prometheus, LabelValuesAreEscaped) {
  Registry r;
  r.Gauge("info", "Info.", {"id"})->Set({"a\"b\\c"}, 1);
  EXPECT_THAT(r.Render(), HasSubstr("info{id=\"a\\\"b\\\\c\"} 1\n"));
}

TEST(Prometheus, ExponentialBuckets) {
  EXPECT_THAT(ExponentialBuckets(1, 2, 4), ::testing::ElementsAre(1, 2, 4, 8));
}

}  // namespace
}  // namespace securebert::service::prometheus
