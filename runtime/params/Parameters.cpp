//===- Parameters.cpp - parameter and optimizer-state buffers -------------===//

#include "runtime/params/Parameters.h"
#include "support/Files.h"
#include "support/ProtoParse.h"

#include "ir/NNDialect.h"

#include "checkpoint.pb.h"

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

#include <cmath>
#include <csignal>
#include <cstdio>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <unistd.h>
#include <zlib.h>

namespace gradc {

namespace {

/// Draws from a 64-bit Mersenne twister through exact arithmetic only, so
/// the numbers do not depend on the standard library.
class Draws {
public:
  explicit Draws(uint64_t seed) : gen(seed) {}
  double uniform() { return double(gen() >> 11) * (1.0 / 9007199254740992.0); }
  double uniform(double lo, double hi) { return lo + (hi - lo) * uniform(); }
  double normal() {
    double u1 = uniform(), u2 = uniform();
    if (u1 < 1e-300)
      u1 = 1e-300;
    return std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * M_PI * u2);
  }
  /// Keras's truncated normal: redraw beyond two standard deviations.
  double truncatedNormal() {
    double v;
    do
      v = normal();
    while (std::fabs(v) > 2.0);
    return v;
  }

private:
  std::mt19937_64 gen;
};

void initialize(Buffer &b, const ParamSpec &spec, bool isKernel, Draws &rng) {
  const Initializer &init = spec.init;
  double fanIn = double(spec.fanIn), fanOut = double(spec.fanOut);
  auto fillWith = [&](auto draw) {
    for (float &v : b.data)
      v = float(draw());
  };
  switch (init.kind_case()) {
  case Initializer::kZeros:
    fillWith([] { return 0.0; });
    break;
  case Initializer::kOnes:
    fillWith([] { return 1.0; });
    break;
  case Initializer::kHeNormal: {
    // Keras: truncated normal with stddev sqrt(2 / fan_in) / 0.8796...
    double sd = std::sqrt(2.0 / fanIn) / 0.87962566103423978;
    fillWith([&] { return sd * rng.truncatedNormal(); });
    break;
  }
  case Initializer::kHeUniform: {
    double limit = std::sqrt(6.0 / fanIn);
    fillWith([&] { return rng.uniform(-limit, limit); });
    break;
  }
  case Initializer::kUniform: {
    double lo = init.uniform().minval(), hi = init.uniform().maxval();
    if (lo == 0 && hi == 0)
      lo = -0.05, hi = 0.05;
    fillWith([&] { return rng.uniform(lo, hi); });
    break;
  }
  case Initializer::kNormal: {
    double mean = init.normal().mean(), sd = init.normal().stddev();
    if (sd == 0)
      sd = 0.05;
    fillWith([&] { return mean + sd * rng.normal(); });
    break;
  }
  case Initializer::kGlorotUniform:
  case Initializer::KIND_NOT_SET:
    if (init.kind_case() == Initializer::KIND_NOT_SET && !isKernel) {
      // Biases start at zero; PReLU's alpha at its constant.
      float c = spec.constant;
      fillWith([c] { return c; });
      break;
    }
    double limit = std::sqrt(6.0 / (fanIn + fanOut));
    fillWith([&] { return rng.uniform(-limit, limit); });
    break;
  }
}

int64_t elements(const std::vector<int64_t> &shape) {
  int64_t n = 1;
  for (int64_t d : shape)
    n *= d;
  return n;
}

} // namespace

ParameterStore ParameterStore::initialize(const ResolvedModel &model,
                                          uint64_t seed) {
  ParameterStore store;
  Draws rng(seed);
  auto slots = nn::optimizerStateSlots(model.optimizer.kind);
  for (const ParamSpec &p : model.params) {
    Buffer b{p.name, p.shape, std::vector<float>(elements(p.shape))};
    bool isKernel = p.name.size() > 7 &&
                    p.name.compare(p.name.size() - 7, 7, ".kernel") == 0;
    if (p.values)
      b.data = *p.values;
    else
      gradc::initialize(b, p, isKernel, rng);
    store.params.push_back(std::move(b));
    for (llvm::StringRef s : slots)
      store.state.push_back(Buffer{absl::StrCat(p.name, ".", s.str()), p.shape,
                                   std::vector<float>(elements(p.shape))});
  }
  for (const ParamSpec &p : model.buffers)
    store.buffers.push_back(
        Buffer{p.name, p.shape,
               p.values ? *p.values
                        : std::vector<float>(elements(p.shape), p.constant)});
  return store;
}

namespace {
uint32_t checksum(const std::string &bytes) {
  return uint32_t(crc32(0, reinterpret_cast<const Bytef *>(bytes.data()),
                        uInt(bytes.size())));
}
/// Removes `path.tmp.PID` files left by writers that were killed (their
/// process is gone), so that kill -9 during saves does not pile them up.
void removeStaleTemporaries(const std::string &path) {
  std::filesystem::path p(path);
  std::filesystem::path dir =
      p.has_parent_path() ? p.parent_path() : std::filesystem::path(".");
  std::string prefix = p.filename().string() + ".tmp.";
  std::error_code ec;
  for (const auto &entry : std::filesystem::directory_iterator(dir, ec)) {
    std::string name = entry.path().filename().string();
    if (name.rfind(prefix, 0) != 0)
      continue;
    std::string pid = name.substr(prefix.size());
    if (pid.empty() || pid.size() > 9 ||
        pid.find_first_not_of("0123456789") != std::string::npos)
      continue;
    if (::kill(pid_t(std::stol(pid)), 0) != 0 && errno == ESRCH)
      std::filesystem::remove(entry.path(), ec);
  }
}

} // namespace

uint64_t ParameterStore::hash() const {
  uint64_t h = 0xcbf29ce484222325ull;
  for (const Buffer &b : params) {
    const auto *bytes = reinterpret_cast<const uint8_t *>(b.data.data());
    for (size_t i = 0; i < b.data.size() * sizeof(float); ++i)
      h = (h ^ bytes[i]) * 0x100000001b3ull;
  }
  return h;
}

std::string ParameterStore::firstNonFinite() const {
  for (const std::vector<Buffer> *group : {&params, &buffers, &state})
    for (const Buffer &b : *group)
      for (float v : b.data)
        if (!std::isfinite(v))
          return b.name;
  return "";
}

absl::Status ParameterStore::save(const std::string &path,
                                  const ResolvedModel &model, int64_t seed,
                                  int64_t threads, int64_t batchSize) const {
  Checkpoint ckpt;
  ckpt.set_model(model.name);
  ckpt.set_optimizer(model.optimizer.kind);
  ckpt.set_step(step);
  ckpt.set_epoch(epoch);
  ckpt.set_seed(seed);
  ckpt.set_threads(threads);
  ckpt.set_batch_size(batchSize);
  for (const std::string &token : vocabulary)
    ckpt.add_vocabulary(token);
  Monitors *m = ckpt.mutable_monitors();
  m->set_plateau_lr(monitors.plateauLr);
  m->set_plateau_best(monitors.plateauBest);
  m->set_plateau_bad(monitors.plateauBad);
  m->set_plateau_cooldown(monitors.plateauCooldown);
  m->set_stop_best(monitors.stopBest);
  m->set_stop_wait(monitors.stopWait);
  m->set_stop_best_epoch(monitors.stopBestEpoch);
  auto add = [](const Buffer &b, NamedTensor *t) {
    t->set_name(b.name);
    t->mutable_shape()->Add(b.shape.begin(), b.shape.end());
    t->mutable_data()->Add(b.data.begin(), b.data.end());
  };
  for (const Buffer &b : params)
    add(b, ckpt.add_param());
  for (const Buffer &b : buffers)
    add(b, ckpt.add_buffer());
  for (const Buffer &b : state)
    add(b, ckpt.add_state());
  std::string bytes;
  if (!ckpt.SerializeToString(&bytes))
    return absl::InternalError(absl::StrCat(path, ": cannot serialize"));
  ckpt.set_crc32(checksum(bytes));
  if (!ckpt.SerializeToString(&bytes))
    return absl::InternalError(absl::StrCat(path, ": cannot serialize"));
  if (absl::Status s = checkOutputPath(path, "checkpoint"); !s.ok())
    return s;
  removeStaleTemporaries(path);
  return writeFileAtomically(path, bytes, "checkpoint");
}

absl::Status ParameterStore::load(const std::string &path, bool weightsOnly,
                                  const ResolvedModel *resumeOf) {
  // Protobuf messages are limited to 2 GiB.
  auto read = readRegularFile(path, "checkpoint", (int64_t(1) << 31) - 1);
  if (!read.ok())
    return read.status();
  Checkpoint ckpt;
  if (absl::Status s =
          parseBinaryProto(*read, ckpt, path, "a gradc checkpoint");
      !s.ok())
    return s;
  uint32_t saved = ckpt.crc32();
  ckpt.set_crc32(0);
  std::string canonical;
  if (saved == 0 || !ckpt.SerializeToString(&canonical) ||
      checksum(canonical) != saved)
    return absl::DataLossError(absl::StrCat(
        path, ": error: the checkpoint is corrupt (its CRC-32 does not match "
              "its contents)"));
  if (resumeOf && !ckpt.model().empty() && ckpt.model() != resumeOf->name)
    return absl::InvalidArgumentError(absl::StrCat(
        path, ": error: the checkpoint is of model '", ckpt.model(), "', not '",
        resumeOf->name, "'; --init-from takes its weights only"));
  if (resumeOf && !ckpt.optimizer().empty() &&
      ckpt.optimizer() != resumeOf->optimizer.kind)
    return absl::InvalidArgumentError(absl::StrCat(
        path, ": error: the checkpoint's optimizer is ", ckpt.optimizer(),
        ", the model's ", resumeOf->optimizer.kind,
        "; --init-from takes its weights only"));
  auto restore =
      [&](const google::protobuf::RepeatedPtrField<NamedTensor> &from,
          std::vector<Buffer> &to, const char *what) -> absl::Status {
    if (from.size() != int(to.size()))
      return absl::InvalidArgumentError(
          absl::StrCat(path, ": error: checkpoint has ", from.size(), " ", what,
                       " tensors, the model needs ", to.size()));
    for (int i = 0; i < from.size(); ++i) {
      const NamedTensor &t = from[i];
      Buffer &b = to[i];
      std::vector<int64_t> shape(t.shape().begin(), t.shape().end());
      if (t.name() != b.name || shape != b.shape ||
          t.data_size() != int64_t(b.data.size()))
        return absl::InvalidArgumentError(absl::StrCat(
            path, ": error: checkpoint tensor '", t.name(), "' [",
            absl::StrJoin(shape, "x"), "] does not match the model's '", b.name,
            "' [", absl::StrJoin(b.shape, "x"), "]"));
      std::copy(t.data().begin(), t.data().end(), b.data.begin());
    }
    return absl::OkStatus();
  };
  if (absl::Status s = restore(ckpt.param(), params, "parameter"); !s.ok())
    return s;
  if (absl::Status s = restore(ckpt.buffer(), buffers, "buffer"); !s.ok())
    return s;
  vocabulary.assign(ckpt.vocabulary().begin(), ckpt.vocabulary().end());
  if (weightsOnly)
    return absl::OkStatus();
  if (absl::Status s = restore(ckpt.state(), state, "optimizer state"); !s.ok())
    return s;
  if (std::string bad = firstNonFinite(); !bad.empty())
    return absl::InvalidArgumentError(absl::StrCat(
        path, ": error: checkpoint holds non-finite values in '", bad, "'"));
  step = ckpt.step();
  epoch = ckpt.epoch();
  if (ckpt.has_monitors()) {
    const Monitors &m = ckpt.monitors();
    monitors = {m.plateau_lr(),       m.plateau_best(), m.plateau_bad(),
                m.plateau_cooldown(), m.stop_best(),    m.stop_wait(),
                m.stop_best_epoch()};
  }
  savedSeed = ckpt.seed();
  savedThreads = ckpt.threads();
  savedBatchSize = ckpt.batch_size();
  return absl::OkStatus();
}

} // namespace gradc
