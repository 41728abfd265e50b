// Renders securebert-client's results: human-readable text (predict-mask in
// the style of the model card's fill-mask pipeline example) or JSON (the
// proto3 JSON mapping with the .proto's field names, one object per call).
//
// Stateless functions; safe from any thread. `texts` are the inputs in
// request order, for labelling.
#ifndef SECUREBERT_CLIENT_CLI_RESPONSE_PRINTER_H_
#define SECUREBERT_CLIENT_CLI_RESPONSE_PRINTER_H_

#include <ostream>
#include <string>
#include <vector>

#include "client/securebert_client.h"

namespace securebert::client {

// How results are written.
enum class OutputFormat { kText, kJson };

void PrintEmbed(const v1::EmbedResponse& response, const std::vector<std::string>& texts,
                OutputFormat format, std::ostream& out);
void PrintPredictMask(const v1::PredictMaskResponse& response,
                      const std::vector<std::string>& texts, OutputFormat format,
                      std::ostream& out);
void PrintTokenize(const v1::TokenizeResponse& response, const std::vector<std::string>& texts,
                   OutputFormat format, std::ostream& out);
void PrintClassify(const v1::ClassifyResponse& response, const std::vector<std::string>& texts,
                   OutputFormat format, std::ostream& out);
// `aggregation` is the request's: with AGGREGATION_NONE each entity is one
// token, and the text output says which.
void PrintExtractEntities(const v1::ExtractEntitiesResponse& response,
                          const std::vector<std::string>& texts, v1::Aggregation aggregation,
                          OutputFormat format, std::ostream& out);
void PrintModelInfo(const v1::ModelInfo& info, OutputFormat format, std::ostream& out);
void PrintHealth(const std::string& service, ServingStatus status, OutputFormat format,
                 std::ostream& out);

}  // namespace securebert::client

#endif  // SECUREBERT_CLIENT_CLI_RESPONSE_PRINTER_H_
