//===- ShapeRules.h - output shapes of nn ops ------------------*- C++ -*-===//
//
// The shape rules of the nn dialect, shared by the op verifiers and the
// model importer so that a model file and its IR agree on every size.
//
//===----------------------------------------------------------------------===//

#ifndef GRADC_IR_SHAPERULES_H
#define GRADC_IR_SHAPERULES_H

#include "llvm/ADT/ArrayRef.h"
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace gradc {

/// NumPy's broadcasting of two shapes: aligned at the last dimension, each
/// pair of sizes equal or one of them 1, a missing dimension taken as 1;
/// nullopt when they do not broadcast.
std::optional<std::vector<int64_t>> broadcastShapes(llvm::ArrayRef<int64_t> a,
                                                    llvm::ArrayRef<int64_t> b);

/// The shape of a matrix product over broadcast batch dimensions
/// (torch.matmul's, without its 1-D cases): `a` [b..., M, K] x `b`
/// [b..., K, P] is [b..., M, P], `ta` / `tb` swapping the last two
/// dimensions of `a` / `b` first, the batch dimensions broadcast as
/// broadcastShapes does. A negative size is unknown and matches anything.
/// On failure returns nullopt and sets `error`, e.g. "expects contracted
/// sizes to match, got 32 and 16".
std::optional<std::vector<int64_t>> matmulShape(llvm::ArrayRef<int64_t> a,
                                                llvm::ArrayRef<int64_t> b,
                                                bool ta, bool tb,
                                                std::string &error);

/// A 2-D sliding window: kernel/pool size, strides, dilations and explicit
/// pads `[top, bottom, left, right]`.
struct Window2D {
  std::array<int64_t, 2> size{1, 1};
  std::array<int64_t, 2> strides{1, 1};
  std::array<int64_t, 2> dilations{1, 1};
  std::array<int64_t, 4> pads{0, 0, 0, 0};
};

/// `floor((in + padBegin + padEnd - dilation*(k-1) - 1) / stride) + 1`, or -1
/// when the dilated window does not fit the padded input.
int64_t windowOutputSize(int64_t in, int64_t k, int64_t stride,
                         int64_t dilation, int64_t padBegin, int64_t padEnd);

/// TensorFlow's SAME padding for one dimension: output `ceil(in / stride)`,
/// total padding split with the odd element at the end. Returns {begin, end}.
std::array<int64_t, 2> samePadding(int64_t in, int64_t k, int64_t stride,
                                   int64_t dilation);

/// Computes the output height and width of a window over an input of
/// `inHW`. On failure returns false and sets `error` to a message naming the
/// sizes, e.g. "expects window 5x5 to fit input 3x3 (padding 0,0,0,0)".
bool windowOutputHW(llvm::ArrayRef<int64_t> inHW, const Window2D &w,
                    std::array<int64_t, 2> &outHW, std::string &error);

/// Checks the window parameters themselves (positive sizes, strides,
/// dilations; non-negative pads). Returns an empty string when valid.
std::string checkWindowParams(const Window2D &w);

} // namespace gradc

#endif // GRADC_IR_SHAPERULES_H
