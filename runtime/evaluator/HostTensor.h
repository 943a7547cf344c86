//===- HostTensor.h - dense row-major tensors in host memory ----*- C++ -*-===//
//
// The values the reference evaluator computes with, and the simplest way to
// hand a tensor to it: a shape and a row-major vector of elements. A float
// tensor of the nn dialect (f32 or f64 in the IR) is held in the evaluator's
// element type T; labels are int32 and the step and the correct count int64,
// as in the IR.
//
//===----------------------------------------------------------------------===//

#ifndef GRADC_RUNTIME_HOSTTENSOR_H
#define GRADC_RUNTIME_HOSTTENSOR_H

#include <cassert>
#include <cstdint>
#include <utility>
#include <variant>
#include <vector>

namespace gradc {

/// A dense row-major tensor; a 0-D tensor has an empty shape and one element.
template <typename T> struct HostTensor {
  std::vector<int64_t> shape;
  std::vector<T> data;

  HostTensor() = default;
  explicit HostTensor(std::vector<int64_t> shape, T fill = T())
      : shape(std::move(shape)) {
    data.assign(numElements(), fill);
  }
  HostTensor(std::vector<int64_t> shape, std::vector<T> data)
      : shape(std::move(shape)), data(std::move(data)) {
    assert(int64_t(this->data.size()) == numElements() &&
           "data size must match the shape");
  }

  static HostTensor scalar(T value) { return HostTensor({}, {value}); }

  int64_t rank() const { return int64_t(shape.size()); }
  int64_t dim(int64_t i) const { return shape[i]; }
  int64_t numElements() const {
    int64_t n = 1;
    for (int64_t d : shape)
      n *= d;
    return n;
  }
  T &operator[](int64_t i) { return data[i]; }
  const T &operator[](int64_t i) const { return data[i]; }
};

/// A value of an nn function: a float tensor (in T), int32 labels, or an
/// int64 step / count.
template <typename T>
using HostValue =
    std::variant<HostTensor<T>, HostTensor<int32_t>, HostTensor<int64_t>>;

} // namespace gradc

#endif // GRADC_RUNTIME_HOSTTENSOR_H
