//===- ModelBudget.cpp - memory and code a run needs, checked first -------===//

#include "frontend/ModelBudget.h"
#include "ir/NNDialect.h"

#include "absl/strings/str_format.h"

#include <unistd.h>

namespace gradc {

int64_t physicalMemoryBytes() {
  long pages = sysconf(_SC_PHYS_PAGES), size = sysconf(_SC_PAGESIZE);
  return pages > 0 && size > 0 ? int64_t(pages) * int64_t(size) : 0;
}

namespace {

/// Adds without overflow (saturating at INT64_MAX).
int64_t add(int64_t a, int64_t b) {
  return a > INT64_MAX - b ? INT64_MAX : a + b;
}
int64_t mul(int64_t a, int64_t b) {
  return b != 0 && a > INT64_MAX / b ? INT64_MAX : a * b;
}

int64_t elements(const std::vector<int64_t> &shape) {
  int64_t n = 1;
  for (int64_t d : shape)
    n = mul(n, d);
  return n;
}

/// Bytes held for the whole run: parameters and buffers (with gradients and
/// optimizer slots when training).
int64_t fixedBytes(const ResolvedModel &m, bool training) {
  int64_t copies =
      training ? 2 + int64_t(nn::optimizerStateSlots(m.optimizer.kind).size())
               : 1;
  int64_t bytes = 0;
  for (const ParamSpec &p : m.params)
    bytes = add(bytes, mul(mul(elements(p.shape), 4), copies));
  for (const ParamSpec &b : m.buffers)
    bytes = add(bytes, mul(elements(b.shape), 4));
  return bytes;
}

/// Bytes of a layer's output for the batch, with its gradient when training.
int64_t layerBytes(const ResolvedLayer &l, int64_t batch, bool training) {
  return mul(mul(mul(elements(l.shape), batch), 4), training ? 2 : 1);
}

} // namespace

std::string humanBytes(int64_t bytes) {
  const char *units[] = {"bytes", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
  double v = double(bytes);
  int u = 0;
  while (v >= 1024 && u < 6)
    v /= 1024, ++u;
  return u == 0 ? absl::StrFormat("%d bytes", bytes)
                : absl::StrFormat("%.1f %s", v, units[u]);
}

int64_t stepMemoryBytes(const ResolvedModel &m, int64_t batch, bool training) {
  int64_t bytes =
      add(fixedBytes(m, training), mul(mul(elements(m.inputShape), batch), 4));
  for (const ResolvedLayer &l : m.layers)
    bytes = add(bytes, layerBytes(l, batch, training));
  return bytes;
}

namespace {

/// Where a running sum that starts at `start` and adds `perLayer(l)` for
/// every layer first exceeds `limit`: "layer 'x' (...)" with `describe(l)`
/// inside the parentheses, or `before` when `start` alone exceeds it.
template <typename PerLayer, typename Describe>
std::string crossing(const ResolvedModel &m, int64_t start, int64_t limit,
                     PerLayer perLayer, Describe describe, const char *before) {
  if (start > limit)
    return before;
  int64_t bytes = start;
  for (const ResolvedLayer &l : m.layers) {
    bytes = add(bytes, perLayer(l));
    if (bytes > limit)
      return absl::StrFormat("layer '%s' (%s)", l.layer->name(), describe(l));
  }
  return before;
}

const char *path(const ResolvedModel &m) {
  return m.file ? m.file->path.c_str() : "model";
}

} // namespace

absl::Status checkMemoryBudget(const ResolvedModel &m, int64_t batch,
                               bool training, int64_t limitBytes,
                               const char *limitSource) {
  if (limitBytes <= 0)
    return absl::OkStatus();
  int64_t total = stepMemoryBytes(m, batch, training);
  if (total <= limitBytes)
    return absl::OkStatus();
  // Name the layer whose output makes the running sum cross the limit.
  std::string where = crossing(
      m,
      add(fixedBytes(m, training), mul(mul(elements(m.inputShape), batch), 4)),
      limitBytes,
      [&](const ResolvedLayer &l) { return layerBytes(l, batch, training); },
      [&](const ResolvedLayer &l) {
        std::string s = absl::StrFormat("output [%d", batch);
        for (int64_t d : l.shape)
          s += ", " + std::to_string(d);
        return s + "]";
      },
      "its parameters");
  return absl::ResourceExhaustedError(absl::StrFormat(
      "%s: error: a %s step at a batch of %d needs at least %s; the limit of "
      "%s (%s) is crossed at %s: reduce the batch or the model, or raise "
      "--memory-limit",
      path(m), training ? "training" : "inference", batch, humanBytes(total),
      humanBytes(limitBytes), limitSource, where));
}

int64_t moduleCodeBytes(const ResolvedModel &m) {
  int64_t bytes = kModuleCodeBytes;
  for (const ResolvedLayer &l : m.layers)
    bytes = add(bytes, l.codeBytes);
  return bytes;
}

absl::Status checkCodeBudget(const ResolvedModel &m, int64_t limitBytes,
                             const char *limitSource) {
  int64_t total = moduleCodeBytes(m);
  if (limitBytes <= 0 || total <= limitBytes)
    return absl::OkStatus();
  std::string where = crossing(
      m, kModuleCodeBytes, limitBytes,
      [](const ResolvedLayer &l) { return l.codeBytes; },
      [](const ResolvedLayer &l) {
        const auto *field = Layer::descriptor()->FindFieldByNumber(l.kind);
        return absl::StrFormat("%s, %s", field ? field->name() : "?",
                               humanBytes(l.codeBytes));
      },
      "the module's own code");
  return absl::ResourceExhaustedError(absl::StrFormat(
      "%s: error: the compiled model needs at least %s of machine code; the "
      "limit of %s (%s) is crossed at %s: reduce the model, or raise "
      "--code-limit",
      path(m), humanBytes(total), humanBytes(limitBytes), limitSource, where));
}

} // namespace gradc
