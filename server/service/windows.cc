#include "service/windows.h"

#include <algorithm>
#include <limits>

namespace securebert::service {
namespace {

int32_t Step(const WindowShape& shape) { return std::max(1, shape.window - shape.overlap); }

}  // namespace

int32_t CountWindows(int32_t content_tokens, const WindowShape& shape) {
  if (content_tokens <= shape.window) return 1;
  const int32_t step = Step(shape);
  return 1 + (content_tokens - shape.window + step - 1) / step;
}

int64_t MaxContentTokens(int32_t max_windows, const WindowShape& shape) {
  if (max_windows <= 0) return 0;
  return shape.window + int64_t{max_windows - 1} * Step(shape);
}

std::vector<Window> PlanWindows(int32_t content_tokens, const WindowShape& shape) {
  const int32_t count = CountWindows(content_tokens, shape);
  const int32_t step = Step(shape);
  std::vector<Window> windows;
  windows.reserve(static_cast<size_t>(count));
  for (int32_t k = 0; k < count; ++k) {
    const int32_t start = k * step;
    windows.push_back(Window{start, std::min(shape.window, content_tokens - start)});
  }
  return windows;
}

std::vector<TokenSource> ChooseSources(const std::vector<Window>& windows, int32_t content_tokens) {
  constexpr int32_t kUncut = std::numeric_limits<int32_t>::max();
  std::vector<TokenSource> sources(static_cast<size_t>(std::max(0, content_tokens)));
  std::vector<int32_t> best(sources.size(), -1);
  for (size_t k = 0; k < windows.size(); ++k) {
    const Window& w = windows[k];
    const int32_t end = w.start + w.length;
    for (int32_t p = w.start; p < end; ++p) {
      const int32_t left = w.start == 0 ? kUncut : p - w.start;
      const int32_t right = end == content_tokens ? kUncut : end - 1 - p;
      const int32_t distance = std::min(left, right);
      // Strictly further only: a tie keeps the earlier window.
      if (distance > best[static_cast<size_t>(p)]) {
        best[static_cast<size_t>(p)] = distance;
        sources[static_cast<size_t>(p)] = TokenSource{static_cast<int32_t>(k), p - w.start + 1};
      }
    }
  }
  return sources;
}

}  // namespace securebert::service
