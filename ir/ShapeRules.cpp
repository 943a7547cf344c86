//===- ShapeRules.cpp - output shapes of nn ops ---------------------------===//
//
// Implements the conv/pool output-size rule of docs/model-format.md
// ("Output sizes of conv and pool layers"), including SAME padding with the
// odd element at the bottom/right.
//
//===----------------------------------------------------------------------===//

#include "ir/ShapeRules.h"

#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/MathExtras.h"

#include <algorithm>
#include <limits>

namespace gradc {

/// `dilation * (k - 1) + 1` for a positive window and dilation, saturated at
/// INT64_MAX: sizes in hand-written IR may be anything, and no input is that
/// large.
static int64_t windowSpan(int64_t k, int64_t dilation) {
  int64_t span;
  if (k <= 0 || dilation <= 0 || llvm::MulOverflow(dilation, k - 1, span) ||
      llvm::AddOverflow(span, int64_t(1), span))
    return std::numeric_limits<int64_t>::max();
  return span;
}

int64_t windowOutputSize(int64_t in, int64_t k, int64_t stride,
                         int64_t dilation, int64_t padBegin, int64_t padEnd) {
  int64_t span = windowSpan(k, dilation);
  int64_t padded;
  if (stride <= 0 || llvm::AddOverflow(in, padBegin, padded) ||
      llvm::AddOverflow(padded, padEnd, padded) || span > padded)
    return -1;
  return (padded - span) / stride + 1;
}

std::array<int64_t, 2> samePadding(int64_t in, int64_t k, int64_t stride,
                                   int64_t dilation) {
  int64_t out = in / stride + (in % stride != 0);
  // (out - 1) * stride <= in - 1, so only the span can overflow.
  int64_t total;
  if (llvm::AddOverflow((out - 1) * stride - in, windowSpan(k, dilation),
                        total))
    total = std::numeric_limits<int64_t>::max();
  total = std::max<int64_t>(total, 0);
  return {total / 2, total - total / 2};
}

std::string checkWindowParams(const Window2D &w) {
  for (int i = 0; i < 2; ++i) {
    if (w.size[i] <= 0)
      return llvm::formatv("expects a positive window, got {0}x{1}", w.size[0],
                           w.size[1]);
    if (w.strides[i] <= 0)
      return llvm::formatv("expects positive strides, got {0}x{1}",
                           w.strides[0], w.strides[1]);
    if (w.dilations[i] <= 0)
      return llvm::formatv("expects positive dilations, got {0}x{1}",
                           w.dilations[0], w.dilations[1]);
  }
  for (int64_t p : w.pads)
    if (p < 0)
      return llvm::formatv("expects non-negative pads, got {0},{1},{2},{3}",
                           w.pads[0], w.pads[1], w.pads[2], w.pads[3]);
  return "";
}

std::optional<std::vector<int64_t>> broadcastShapes(llvm::ArrayRef<int64_t> a,
                                                    llvm::ArrayRef<int64_t> b) {
  if (a.size() < b.size())
    std::swap(a, b);
  std::vector<int64_t> out(a.begin(), a.end());
  size_t offset = a.size() - b.size();
  for (size_t j = 0; j < b.size(); ++j) {
    int64_t &o = out[offset + j];
    if (b[j] == o || b[j] == 1)
      continue;
    if (o != 1)
      return std::nullopt;
    o = b[j];
  }
  return out;
}

std::optional<std::vector<int64_t>> matmulShape(llvm::ArrayRef<int64_t> a,
                                                llvm::ArrayRef<int64_t> b,
                                                bool ta, bool tb,
                                                std::string &error) {
  auto str = [](llvm::ArrayRef<int64_t> s) {
    std::string out;
    for (int64_t d : s)
      out += (out.empty() ? "" : "x") + (d < 0 ? "?" : std::to_string(d));
    return out;
  };
  if (a.size() < 2 || b.size() < 2) {
    error = llvm::formatv("expects operands of rank 2 or more, got ranks {0} "
                          "and {1}",
                          a.size(), b.size());
    return std::nullopt;
  }
  size_t ra = a.size(), rb = b.size();
  int64_t m = a[ta ? ra - 1 : ra - 2], ka = a[ta ? ra - 2 : ra - 1];
  int64_t kb = b[tb ? rb - 1 : rb - 2], p = b[tb ? rb - 2 : rb - 1];
  if (ka >= 0 && kb >= 0 && ka != kb) {
    error = llvm::formatv("expects contracted sizes to match, got {0} and {1}",
                          ka, kb);
    return std::nullopt;
  }
  // The batch dimensions, aligned at the last; an unknown size takes the
  // other's unless that is 1.
  llvm::ArrayRef<int64_t> ba = a.drop_back(2), bb = b.drop_back(2);
  if (ba.size() < bb.size())
    std::swap(ba, bb);
  std::vector<int64_t> out(ba.begin(), ba.end());
  size_t offset = ba.size() - bb.size();
  for (size_t j = 0; j < bb.size(); ++j) {
    int64_t &o = out[offset + j], d = bb[j];
    if (d == o || d == 1)
      continue;
    if (o == 1 || (o < 0 && d >= 0)) {
      o = d;
      continue;
    }
    if (d < 0)
      continue;
    error = llvm::formatv("expects batch dimensions that broadcast, got {0} "
                          "and {1}",
                          str(a.drop_back(2)), str(b.drop_back(2)));
    return std::nullopt;
  }
  out.push_back(m);
  out.push_back(p);
  return out;
}

bool windowOutputHW(llvm::ArrayRef<int64_t> inHW, const Window2D &w,
                    std::array<int64_t, 2> &outHW, std::string &error) {
  error = checkWindowParams(w);
  if (!error.empty())
    return false;
  for (int i = 0; i < 2; ++i) {
    outHW[i] =
        windowOutputSize(inHW[i], w.size[i], w.strides[i], w.dilations[i],
                         w.pads[2 * i], w.pads[2 * i + 1]);
    if (outHW[i] < 0) {
      error = llvm::formatv(
          "expects window {0}x{1} (dilation {2}x{3}) to fit input {4}x{5} "
          "(padding {6},{7},{8},{9})",
          w.size[0], w.size[1], w.dilations[0], w.dilations[1], inHW[0],
          inHW[1], w.pads[0], w.pads[1], w.pads[2], w.pads[3]);
      return false;
    }
  }
  return true;
}

} // namespace gradc
