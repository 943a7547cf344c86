//===- Sampling.cpp - the next token from a language model's output -------===//
//
// Temperature and top-k sampling (runtime/trainer/Sampling.h).
//
//===----------------------------------------------------------------------===//

#include "runtime/trainer/Sampling.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <vector>

namespace gradc {

int64_t TokenSampler::next(const float *probs, int64_t n) {
  // Most likely first; ties by the smaller id, so the order is total.
  std::vector<int64_t> order(static_cast<size_t>(n));
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(),
                   [&](int64_t a, int64_t b) { return probs[a] > probs[b]; });
  if (options.temperature == 0 || n == 1)
    return order[0];
  size_t keep =
      options.topK > 0 ? size_t(std::min(options.topK, n)) : order.size();
  // p^(1/T), relative to the largest so that small T does not underflow all.
  double top = std::max(double(probs[order[0]]), 1e-300);
  std::vector<double> weights(keep);
  double total = 0;
  for (size_t i = 0; i < keep; ++i) {
    double p = std::max(double(probs[order[i]]), 0.0);
    weights[i] = std::pow(p / top, 1.0 / options.temperature);
    total += weights[i];
  }
  double u = double(gen() >> 11) * 0x1.0p-53 * total;
  size_t last = 0; // the least likely token with a weight
  for (size_t i = 0; i < keep; ++i) {
    if (weights[i] > 0)
      last = i;
    if (u < weights[i])
      return order[i];
    u -= weights[i];
  }
  return order[last]; // u rounded past the end
}

} // namespace gradc
