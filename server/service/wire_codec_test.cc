// The raw handlers' codec: the wire view parses what the contract's clients
// send, including texts that are not UTF-8, and refuses what is not a
// message at all.
#include "service/wire_codec.h"

#include <grpcpp/support/proto_buffer_writer.h>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "securebert/v1/securebert.pb.h"
#include "securebert/wire/v1/securebert_wire.pb.h"

namespace securebert::service {
namespace {

grpc::ByteBuffer Bytes(const std::string& data) {
  grpc::Slice slice(data);
  return grpc::ByteBuffer(&slice, 1);
}

TEST(WireCodec, TheWireViewReadsEveryFieldOfTheContractsMessages) {
  v1::PredictMaskRequest request;
  request.add_inputs("Adversaries used <mask> to move laterally.");
  request.add_inputs("tümöre <mask>");
  request.set_top_k(7);
  request.set_truncation(v1::TRUNCATION_LEFT);
  request.set_omit_sequence(true);
  wire::v1::PredictMaskRequest parsed;
  ASSERT_TRUE(ParseRequest(Bytes(request.SerializeAsString()), "PredictMaskRequest", &parsed).ok());
  EXPECT_THAT(parsed.inputs(), ::testing::ElementsAreArray(request.inputs()));
  EXPECT_EQ(parsed.top_k(), 7u);
  EXPECT_EQ(parsed.truncation(), wire::v1::TRUNCATION_LEFT);
  EXPECT_TRUE(parsed.omit_sequence());
  // And back: what the wire view writes, the contract reads.
  v1::PredictMaskRequest again;
  ASSERT_TRUE(again.ParseFromString(parsed.SerializeAsString()));
  EXPECT_EQ(again.SerializeAsString(), request.SerializeAsString());
}

TEST(WireCodec, TextsThatAreNotUtf8StillParse) {
  // Field 1 (inputs), length-delimited, 3 bytes: "a", 0xFF, "b".
  const std::string raw = std::string(
      "\x0a\x03"
      "a\xff"
      "b",
      5);
  v1::EmbedRequest strict;
  EXPECT_FALSE(strict.ParseFromString(raw));  // what gRPC's own parser would do
  wire::v1::EmbedRequest parsed;
  ASSERT_TRUE(ParseRequest(Bytes(raw), "EmbedRequest", &parsed).ok());
  EXPECT_EQ(parsed.inputs(0), std::string("a\xff"
                                          "b",
                                          3));
}

TEST(WireCodec, BytesThatAreNoMessageAreInvalidArgumentNamingIt) {
  wire::v1::EmbedRequest parsed;
  const absl::Status s = ParseRequest(Bytes("\x0a\x7f"
                                            "short"),
                                      "EmbedRequest", &parsed);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), ::testing::HasSubstr("securebert.v1.EmbedRequest"));
}

TEST(WireCodec, SerializedResponsesParseAsTheContractsMessages) {
  v1::EmbedResponse response;
  response.add_embeddings()->mutable_values()->Add(1.5f);
  response.mutable_timing()->set_batch_size(3);
  grpc::ByteBuffer bytes;
  ASSERT_TRUE(SerializeResponse(response, &bytes).ok());
  std::vector<grpc::Slice> slices;
  ASSERT_TRUE(bytes.Dump(&slices).ok());
  std::string flat;
  for (const grpc::Slice& s : slices)
    flat.append(reinterpret_cast<const char*>(s.begin()), s.size());
  v1::EmbedResponse parsed;
  ASSERT_TRUE(parsed.ParseFromString(flat));
  EXPECT_EQ(parsed.embeddings(0).values(0), 1.5f);
  EXPECT_EQ(parsed.timing().batch_size(), 3u);
}

}  // namespace
}  // namespace securebert::service
