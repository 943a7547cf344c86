//===- ModelBudget.cpp - memory and code a run needs, checked first -------===//

#include "frontend/ModelBudget.h"
#include "ir/NNDialect.h"

#include "absl/strings/numbers.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

#include <algorithm>
#include <fstream>
#include <sstream>
#include <sys/resource.h>
#include <unistd.h>
#include <vector>

namespace gradc {

int64_t physicalMemoryBytes() {
  long pages = sysconf(_SC_PHYS_PAGES), size = sysconf(_SC_PAGESIZE);
  return pages > 0 && size > 0 ? int64_t(pages) * int64_t(size) : 0;
}

//===----------------------------------------------------------------------===//
// The limit: physical memory, rlimits, cgroups
//===----------------------------------------------------------------------===//

namespace {

/// The contents of a file, or none when it cannot be read.
std::optional<std::string> readSmallFile(const std::string &path) {
  std::ifstream in(path, std::ios::binary);
  if (!in)
    return std::nullopt;
  std::stringstream buffer;
  buffer << in.rdbuf();
  if (in.bad())
    return std::nullopt;
  return buffer.str();
}

/// `root` joined with an absolute `path` ("/" + "/proc" is "/proc").
std::string under(const std::string &root, const std::string &path) {
  std::string r = root;
  while (!r.empty() && r.back() == '/')
    r.pop_back();
  return r + path;
}

/// A non-negative decimal number alone on its line.
std::optional<int64_t> parseBytes(const std::string &contents) {
  int64_t value;
  if (!absl::SimpleAtoi(absl::StripAsciiWhitespace(contents), &value) ||
      value < 0)
    return std::nullopt;
  return value;
}

int64_t rlimitBytes(int resource) {
  struct rlimit limit;
  if (getrlimit(resource, &limit) != 0 || limit.rlim_cur == RLIM_INFINITY)
    return 0;
  return limit.rlim_cur > rlim_t(INT64_MAX) ? INT64_MAX
                                            : int64_t(limit.rlim_cur);
}

/// The smallest limit in the files named `file` in `dir` (a cgroup's
/// directory under `mount`) and in its parents up to `mount`.
void smallestUpTheTree(const std::string &mount, std::string dir,
                       const char *file,
                       std::optional<int64_t> (*parse)(const std::string &),
                       MemoryLimit &best) {
  while (!dir.empty() && dir.back() == '/')
    dir.pop_back();
  while (true) {
    std::string directory = mount + dir;
    if (std::optional<std::string> contents =
            readSmallFile(directory + "/" + file))
      if (std::optional<int64_t> bytes = parse(*contents))
        if (best.bytes == 0 || *bytes < best.bytes)
          best = {std::max<int64_t>(*bytes, 1),
                  absl::StrFormat("the cgroup's %s in %s", file, directory),
                  true};
    if (dir.empty())
      return;
    dir.erase(dir.rfind('/'));
  }
}

} // namespace

std::optional<int64_t> parseCgroupV2Limit(const std::string &contents) {
  return parseBytes(contents);
}

std::optional<int64_t> parseCgroupV1Limit(const std::string &contents) {
  std::optional<int64_t> bytes = parseBytes(contents);
  if (bytes && *bytes >= int64_t(1) << 60)
    return std::nullopt;
  return bytes;
}

std::optional<int64_t> parseProcStatusBytes(const std::string &status,
                                            const std::string &field) {
  for (absl::string_view line : absl::StrSplit(status, '\n')) {
    if (!absl::ConsumePrefix(&line, field) || !absl::ConsumePrefix(&line, ":"))
      continue;
    line = absl::StripAsciiWhitespace(line);
    int64_t kib;
    if (!absl::ConsumeSuffix(&line, "kB") ||
        !absl::SimpleAtoi(absl::StripAsciiWhitespace(line), &kib) || kib < 0)
      return std::nullopt;
    return kib * 1024;
  }
  return std::nullopt;
}

MemoryLimit cgroupMemoryLimit(const std::string &procSelfCgroup,
                              const std::string &root) {
  MemoryLimit best;
  std::string mount = under(root, "/sys/fs/cgroup");
  // "hierarchy:controllers:path" lines; the path may hold colons.
  for (absl::string_view line : absl::StrSplit(procSelfCgroup, '\n')) {
    std::vector<absl::string_view> parts = absl::StrSplit(line, ':');
    if (parts.size() < 3)
      continue;
    size_t pathAt = parts[0].size() + parts[1].size() + 2;
    std::string path(line.substr(pathAt));
    if (path.empty() || path[0] != '/')
      continue;
    if (parts[0] == "0" && parts[1].empty()) {
      smallestUpTheTree(mount, path, "memory.max", parseCgroupV2Limit, best);
      continue;
    }
    for (absl::string_view controller : absl::StrSplit(parts[1], ','))
      if (controller == "memory")
        smallestUpTheTree(mount + "/memory", path, "memory.limit_in_bytes",
                          parseCgroupV1Limit, best);
  }
  return best;
}

ProcessLimits currentProcessLimits() {
  ProcessLimits limits;
  limits.physicalBytes = physicalMemoryBytes();
  limits.addressSpaceBytes = rlimitBytes(RLIMIT_AS);
  limits.dataBytes = rlimitBytes(RLIMIT_DATA);
  return limits;
}

MemoryLimit detectMemoryLimit(const ProcessLimits &limits,
                              const std::string &root) {
  MemoryLimit best;
  if (limits.physicalBytes > 0)
    best = {limits.physicalBytes, "the machine's physical memory", false};
  auto consider = [&](const MemoryLimit &limit) {
    if (limit.bytes > 0 && (best.bytes == 0 || limit.bytes < best.bytes))
      best = limit;
  };
  // What the process has already mapped (the libraries, the JIT) or holds
  // counts against its rlimits: the model gets the rest.
  std::string status =
      readSmallFile(under(root, "/proc/self/status")).value_or("");
  auto lessInUse = [&](int64_t limit, const char *field, const char *name) {
    int64_t used = parseProcStatusBytes(status, field).value_or(0);
    return MemoryLimit{
        std::max<int64_t>(limit - used, 1),
        absl::StrFormat("%s of %s less the %s already %s", name,
                        humanBytes(limit), humanBytes(used),
                        std::string(field) == "VmSize" ? "mapped" : "in use"),
        true};
  };
  if (limits.addressSpaceBytes > 0)
    consider(lessInUse(limits.addressSpaceBytes, "VmSize",
                       "the process's address-space limit (RLIMIT_AS)"));
  if (limits.dataBytes > 0)
    consider(lessInUse(limits.dataBytes, "VmData",
                       "the process's data limit (RLIMIT_DATA)"));
  if (std::optional<std::string> cgroup =
          readSmallFile(under(root, "/proc/self/cgroup")))
    consider(cgroupMemoryLimit(*cgroup, root));
  return best;
}

MemoryLimit detectMemoryLimit() {
  return detectMemoryLimit(currentProcessLimits(), "/");
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
      add(fixedBytes(m, training), mul(mul(elements(m.inputShape()), batch), 4));
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
  return checkMemoryBudget(m, batch, training,
                           MemoryLimit{limitBytes, limitSource, false});
}

absl::Status checkMemoryBudget(const ResolvedModel &m, int64_t batch,
                               bool training, const MemoryLimit &limit) {
  int64_t limitBytes = limit.bytes;
  if (limitBytes <= 0)
    return absl::OkStatus();
  int64_t total = stepMemoryBytes(m, batch, training);
  if (total <= limitBytes)
    return absl::OkStatus();
  // Name the layer whose output makes the running sum cross the limit.
  std::string where = crossing(
      m,
      add(fixedBytes(m, training), mul(mul(elements(m.inputShape()), batch), 4)),
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
      "%s (%s) is crossed at %s: reduce the batch or the model, or raise %s",
      path(m), training ? "training" : "inference", batch, humanBytes(total),
      humanBytes(limitBytes), limit.source, where,
      limit.enforced ? "that limit" : "--memory-limit"));
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
