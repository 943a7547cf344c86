//===- SamplingTest.cpp - drawing the next token
//---------------------------===//
//
// runtime/trainer/Sampling.h: temperature 0 is the most likely token (the
// smaller id on a tie), top-k never draws outside the k most likely, the
// frequencies follow p^(1/T), and a seed gives the same draws.
//
//===----------------------------------------------------------------------===//

#include "runtime/trainer/Sampling.h"

#include "gtest/gtest.h"

#include <cmath>
#include <vector>

using namespace gradc;

namespace {

const std::vector<float> kProbs{0.1f, 0.4f, 0.2f, 0.3f};

std::vector<double> frequencies(SamplingOptions o, int draws) {
  TokenSampler s(o, 7);
  std::vector<double> f(kProbs.size(), 0.0);
  for (int i = 0; i < draws; ++i)
    f[size_t(s.next(kProbs.data(), int64_t(kProbs.size())))] += 1.0 / draws;
  return f;
}

TEST(Sampling, TemperatureZeroIsTheMostLikely) {
  TokenSampler s({0.0, 0}, 1);
  EXPECT_EQ(s.next(kProbs.data(), 4), 1);
  std::vector<float> tie{0.3f, 0.2f, 0.3f};
  EXPECT_EQ(s.next(tie.data(), 3), 0);
}

TEST(Sampling, FrequenciesFollowTheTemperature) {
  for (double t : {1.0, 0.5}) {
    std::vector<double> f = frequencies({t, 0}, 200000);
    double total = 0;
    for (float p : kProbs)
      total += std::pow(p, 1.0 / t);
    for (size_t i = 0; i < kProbs.size(); ++i)
      EXPECT_NEAR(f[i], std::pow(kProbs[i], 1.0 / t) / total, 0.005)
          << "temperature " << t << ", token " << i;
  }
}

TEST(Sampling, TopKDrawsOnlyTheMostLikely) {
  std::vector<double> f = frequencies({1.0, 2}, 100000);
  EXPECT_EQ(f[0], 0.0);
  EXPECT_EQ(f[2], 0.0);
  EXPECT_NEAR(f[1], 4.0 / 7.0, 0.01);
  EXPECT_NEAR(f[3], 3.0 / 7.0, 0.01);
}

TEST(Sampling, TheSeedGivesTheSameDraws) {
  TokenSampler a({1.0, 0}, 42), b({1.0, 0}, 42), c({1.0, 0}, 43);
  std::vector<int64_t> da, db, dc;
  for (int i = 0; i < 64; ++i) {
    da.push_back(a.next(kProbs.data(), 4));
    db.push_back(b.next(kProbs.data(), 4));
    dc.push_back(c.next(kProbs.data(), 4));
  }
  EXPECT_EQ(da, db);
  EXPECT_NE(da, dc);
}

} // namespace
