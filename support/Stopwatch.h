//===- Stopwatch.h - elapsed seconds on the steady clock --------*- C++ -*-===//

#ifndef GRADC_RUNTIME_STOPWATCH_H
#define GRADC_RUNTIME_STOPWATCH_H

#include <chrono>

namespace gradc {

/// Seconds elapsed since `start` (a std::chrono::steady_clock::now()).
inline double secondsSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
      .count();
}

} // namespace gradc

#endif // GRADC_RUNTIME_STOPWATCH_H
