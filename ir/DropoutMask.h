//===- DropoutMask.h - the dropout mask as a pure function -----*- C++ -*-===//
//
// nn.dropout keeps element `i` of a tensor when keepDraw(seed, step, i) >=
// rate. The reference evaluator calls this function and the linalg lowering
// emits the same arithmetic, so both agree bit for bit, and the backward
// pass recomputes the mask instead of storing it.
//
//===----------------------------------------------------------------------===//

#ifndef GRADC_IR_DROPOUTMASK_H
#define GRADC_IR_DROPOUTMASK_H

#include <cstdint>

namespace gradc {

constexpr uint64_t kDropoutSeedMul = 0x9E3779B97F4A7C15ull;
constexpr uint64_t kDropoutStepMul = 0xBF58476D1CE4E5B9ull;
constexpr uint64_t kMix1 = 0xBF58476D1CE4E5B9ull;
constexpr uint64_t kMix2 = 0x94D049BB133111EBull;

/// A uniform draw in [0, 1) for element `index` (row-major linear index) of
/// a dropout with `seed` at training step `step` (splitmix64's finalizer
/// over a linear combination; 24 random bits, exact in float).
inline float dropoutDraw(int64_t seed, int64_t step, int64_t index) {
  uint64_t x = uint64_t(seed) * kDropoutSeedMul +
               uint64_t(step) * kDropoutStepMul + uint64_t(index);
  x ^= x >> 30;
  x *= kMix1;
  x ^= x >> 27;
  x *= kMix2;
  x ^= x >> 31;
  return float(x >> 40) * (1.0f / 16777216.0f);
}

/// True when the element is kept (then scaled by 1 / (1 - rate)).
inline bool dropoutKeep(int64_t seed, int64_t step, int64_t index,
                        double rate) {
  return dropoutDraw(seed, step, index) >= float(rate);
}

} // namespace gradc

#endif // GRADC_IR_DROPOUTMASK_H
