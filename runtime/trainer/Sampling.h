//===- Sampling.h - the next token from a language model's output -*- C++
//-*-===//
//
// What `gradc generate` draws from a row of next-token probabilities: the
// most likely token at temperature 0, else a draw from p^(1/T) (the logits
// divided by T) over the k most likely tokens (all with k = 0). The draws
// come from a 64-bit Mersenne twister through exact arithmetic, so a seed
// gives the same text on every machine.
//
//===----------------------------------------------------------------------===//

#ifndef GRADC_RUNTIME_SAMPLING_H
#define GRADC_RUNTIME_SAMPLING_H

#include <cstdint>
#include <random>

namespace gradc {

struct SamplingOptions {
  double temperature = 1.0; // >= 0; 0 takes the most likely token
  int64_t topK = 0;         // > 0: only the k most likely tokens
};

class TokenSampler {
public:
  TokenSampler(SamplingOptions options, uint64_t seed)
      : options(options), gen(seed) {}

  /// A token of [0, n) drawn from `probs` (softmax outputs, each >= 0).
  int64_t next(const float *probs, int64_t n);

private:
  SamplingOptions options;
  std::mt19937_64 gen;
};

} // namespace gradc

#endif // GRADC_RUNTIME_SAMPLING_H
