// Long documents (TRUNCATION_WINDOW): where an input's windows are cut, and
// which window each token's result is taken from.
//
// A document of n content tokens (its tokens without <s> and </s>) runs as
// windows of `window` content tokens, neighbours sharing `overlap` of them:
// window k holds [k * step, min(k * step + window, n)), step = window -
// overlap, until one reaches n. Each runs as <s> + its tokens + </s>. A token's
// result comes from the window in which it stands furthest from a cut, a
// window edge that is not the document's own start or end (there it has the
// most context); ties go to the earlier window. The rule and its reasons:
// proto/securebert/v1/securebert.proto (TRUNCATION_WINDOW).
//
// Pure functions over plain data; thread-safe.
#ifndef SECUREBERT_SERVER_SERVICE_WINDOWS_H_
#define SECUREBERT_SERVER_SERVICE_WINDOWS_H_

#include <cstdint>
#include <vector>

namespace securebert::service {

// How documents are cut.
struct WindowShape {
  int32_t window = 510;   // content tokens per window: max_input_tokens - 2
  int32_t overlap = 128;  // content tokens neighbouring windows share; < window
};

// One window: content tokens [start, start + length) of its document.
struct Window {
  int32_t start = 0;
  int32_t length = 0;
};

// The windows of a document of `content_tokens` tokens (one, possibly empty,
// when it fits in one window).
std::vector<Window> PlanWindows(int32_t content_tokens, const WindowShape& shape);

// How many windows a document of `content_tokens` tokens takes.
int32_t CountWindows(int32_t content_tokens, const WindowShape& shape);

// The most content tokens `max_windows` windows hold.
int64_t MaxContentTokens(int32_t max_windows, const WindowShape& shape);

// Where one content token's result comes from: window `window`, token
// `index` of that window's model input (<s> is 0, so content token p of a
// window starting at s is index p - s + 1).
struct TokenSource {
  int32_t window = 0;
  int32_t index = 0;
};

// The source of every content token of a document cut into `windows`
// (PlanWindows), by the rule above: content_tokens entries.
std::vector<TokenSource> ChooseSources(const std::vector<Window>& windows, int32_t content_tokens);

}  // namespace securebert::service

#endif  // SECUREBERT_SERVER_SERVICE_WINDOWS_H_
