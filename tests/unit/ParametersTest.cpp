//===- ParametersTest.cpp - checkpoints: files, finiteness, monitors ------===//
//
// Checkpoints are read only from regular files, written only to regular
// files, never hold non-finite values (a resume refuses them), and carry
// the epoch-end monitors' state across a resume.
//
//===----------------------------------------------------------------------===//

#include "runtime/params/Parameters.h"
#include "frontend/ModelLoader.h"

#include "gtest/gtest.h"

#include <cstdio>
#include <fstream>
#include <random>
#include <sys/stat.h>

using namespace gradc;

namespace {

struct Fixture {
  std::unique_ptr<ModelFile> file;
  ResolvedModel model;
};

Fixture mlp() {
  Fixture f;
  auto file = loadModelFile(std::string(GRADC_SOURCE_DIR) +
                            "/examples/mnist_mlp.pbtxt");
  EXPECT_TRUE(file.ok()) << file.status();
  f.file = std::move(*file);
  auto model = checkModel(*f.file);
  EXPECT_TRUE(model.ok()) << model.status();
  f.model = *model;
  return f;
}

std::string temp(const std::string &name) {
  return testing::TempDir() + name + "_" + std::to_string(getpid());
}

TEST(Checkpoint, MonitorStateSurvivesARoundTrip) {
  Fixture f = mlp();
  ParameterStore a = ParameterStore::initialize(f.model, 7);
  a.step = 12;
  a.epoch = 3;
  a.monitors = {0.025, 0.31, 2, 1, 0.29, 1, 2};
  std::string path = temp("monitors.ckpt");
  ASSERT_TRUE(a.save(path, f.model, 7, 2, 64).ok());
  ParameterStore b = ParameterStore::initialize(f.model, 8);
  ASSERT_TRUE(b.load(path, /*weightsOnly=*/false).ok());
  EXPECT_EQ(b.step, 12);
  EXPECT_EQ(b.epoch, 3);
  EXPECT_EQ(b.monitors.plateauLr, 0.025);
  EXPECT_EQ(b.monitors.plateauBest, 0.31);
  EXPECT_EQ(b.monitors.plateauBad, 2);
  EXPECT_EQ(b.monitors.plateauCooldown, 1);
  EXPECT_EQ(b.monitors.stopBest, 0.29);
  EXPECT_EQ(b.monitors.stopWait, 1);
  EXPECT_EQ(b.monitors.stopBestEpoch, 2);
  EXPECT_EQ(b.params[0].data, a.params[0].data);
  std::remove(path.c_str());
}

TEST(Checkpoint, NonFiniteValuesAreFoundAndRefusedOnLoad) {
  Fixture f = mlp();
  ParameterStore a = ParameterStore::initialize(f.model, 7);
  EXPECT_EQ(a.firstNonFinite(), "");
  a.state[3].data[5] = std::numeric_limits<float>::infinity();
  EXPECT_EQ(a.firstNonFinite(), a.state[3].name);
  a.params[1].data[0] = std::nanf("");
  EXPECT_EQ(a.firstNonFinite(), a.params[1].name);
  // Written by hand (the trainer never saves such weights), refused when
  // read back.
  std::string path = temp("nan.ckpt");
  ASSERT_TRUE(a.save(path, f.model, 7, 2, 64).ok());
  ParameterStore b = ParameterStore::initialize(f.model, 7);
  absl::Status s = b.load(path, false);
  EXPECT_FALSE(s.ok());
  EXPECT_EQ(s.message(), path +
                             ": error: checkpoint holds non-finite values "
                             "in '" +
                             a.params[1].name + "'");
  std::remove(path.c_str());
}

TEST(Checkpoint, OnlyRegularFiles) {
  Fixture f = mlp();
  ParameterStore a = ParameterStore::initialize(f.model, 7);
  absl::Status s = a.load("/dev/zero", false);
  EXPECT_EQ(
      s.message(),
      "/dev/zero: error: checkpoint is a device, expected a regular file");
  std::string fifo = temp("ckpt_fifo");
  ASSERT_EQ(mkfifo(fifo.c_str(), 0600), 0);
  s = a.load(fifo, false);
  EXPECT_EQ(s.message(),
            fifo + ": error: checkpoint is a FIFO, expected a regular file");
  // A FIFO or a device as the destination is not replaced by a file.
  s = a.save(fifo, f.model, 7, 2, 64);
  EXPECT_EQ(s.message(), fifo + ": error: checkpoint destination is a FIFO, "
                                "expected a regular file");
  struct stat st;
  ASSERT_EQ(stat(fifo.c_str(), &st), 0);
  EXPECT_TRUE(S_ISFIFO(st.st_mode));
  std::remove(fifo.c_str());
  s = a.save("/dev/null", f.model, 7, 2, 64);
  EXPECT_EQ(s.message(), "/dev/null: error: checkpoint destination is a "
                         "device, expected a regular file");
}

TEST(Checkpoint, EveryFlippedBitIsRefused) {
  Fixture f = mlp();
  ParameterStore a = ParameterStore::initialize(f.model, 7);
  std::string path = temp("flip.ckpt");
  ASSERT_TRUE(a.save(path, f.model, 7, 2, 64).ok());
  std::string bytes;
  {
    std::ifstream in(path, std::ios::binary);
    bytes.assign(std::istreambuf_iterator<char>(in), {});
  }
  ASSERT_GT(bytes.size(), 1000u);
  std::mt19937_64 rng(3);
  int refused = 0, trials = 200;
  for (int t = 0; t < trials; ++t) {
    std::string flipped = bytes;
    size_t bit = rng() % (flipped.size() * 8);
    flipped[bit / 8] = char(flipped[bit / 8] ^ (1 << (bit % 8)));
    {
      std::ofstream out(path, std::ios::binary | std::ios::trunc);
      out.write(flipped.data(), std::streamsize(flipped.size()));
    }
    ParameterStore b = ParameterStore::initialize(f.model, 7);
    refused += !b.load(path, /*weightsOnly=*/false).ok();
  }
  EXPECT_EQ(refused, trials);
  std::remove(path.c_str());
}

} // namespace
