//===- Normalization.cpp - adapting normalization layers to data ----------===//
//
// One pass over the training examples in double precision per layer.
//
//===----------------------------------------------------------------------===//

#include "runtime/trainer/Normalization.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace gradc {

absl::Status adaptNormalization(const ResolvedModel &m, ParameterStore &params,
                                const Dataset &train, std::ostream &out) {
  for (const ResolvedLayer &l : m.layers) {
    if (l.kind != Layer::kNormalization)
      continue;
    int64_t c = l.shape.back(), per = train.exampleSize();
    int shiftAt = l.buffers.at("shift"), scaleAt = l.buffers.at("scale");
    if (train.size() == 0 || per % c != 0)
      return absl::InvalidArgumentError(absl::StrCat(
          "error: layer '", l.layer->name(), "': cannot adapt to ",
          train.size(), " examples of ", per, " values over ", c, " channels"));
    bool minMax = l.layer->normalization().mode() == Normalization::MIN_MAX;
    std::vector<double> sum(c), sumSq(c),
        lo(c, std::numeric_limits<double>::infinity()),
        hi(c, -std::numeric_limits<double>::infinity());
    std::vector<float> x(per);
    for (int64_t i = 0; i < train.size(); ++i) {
      train.example(i, x.data());
      for (int64_t k = 0; k < per; ++k) {
        double v = x[k];
        int64_t ch = k % c;
        sum[ch] += v;
        sumSq[ch] += v * v;
        lo[ch] = std::min(lo[ch], v);
        hi[ch] = std::max(hi[ch], v);
      }
    }
    double n = double(train.size()) * double(per / c);
    std::vector<float> &shift = params.buffers[shiftAt].data;
    std::vector<float> &scale = params.buffers[scaleAt].data;
    for (int64_t ch = 0; ch < c; ++ch) {
      double mean = sum[ch] / n;
      double spread =
          minMax ? hi[ch] - lo[ch]
                 : std::sqrt(std::max(0.0, sumSq[ch] / n - mean * mean));
      shift[ch] = float(minMax ? lo[ch] : mean);
      scale[ch] = float(spread > 1e-7 ? 1.0 / spread : 1.0);
    }
    out << absl::StrFormat("gradc: %s adapted to %d training examples (%s "
                           "over %d channel%s)\n",
                           l.layer->name(), train.size(),
                           minMax ? "min-max" : "mean and standard deviation",
                           c, c == 1 ? "" : "s");
  }
  return absl::OkStatus();
}

} // namespace gradc
