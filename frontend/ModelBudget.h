//===- ModelBudget.h - memory and code a run needs, checked first -*- C++
//-*-===//
//
// Before gradc allocates or compiles for a batch, it estimates from the
// resolved model the memory a step holds: the parameters (with their
// gradients and optimizer slots when training) and every layer's output for
// the whole batch (with its gradient when training). That was a lower
// bound while a step kept every buffer until it returned; since
// gradc-early-deallocation frees each after its last use, a step can peak
// below it, and a model just over the limit might still have fit
// (--memory-limit raises the limit). The limit, unless
// --memory-limit says otherwise, is the smallest of what the machine and a
// scheduler allow the process (detectMemoryLimit()): the machine's physical
// memory; the soft RLIMIT_AS less the address space the process has already
// mapped (the loaded libraries, the JIT), and the soft RLIMIT_DATA less the
// data it already holds (ulimit -v and -d, prlimit); and the memory limit of
// its cgroup and of the cgroup's parents (cgroup v2's memory.max, or v1's
// memory.limit_in_bytes: docker --memory, systemd's MemoryMax=, Slurm,
// Kubernetes). The error names the limit that binds.
//
// Before LLVM compiles a model, gradc likewise estimates the machine code
// the module will hold, from each layer's measured lower bound
// (ResolvedLayer::codeBytes), and refuses a model beyond a limit
// (kDefaultCodeLimitBytes unless --code-limit says otherwise): LLVM
// compiles 25 to 110 KiB of such code a second here (bench/code_size.py),
// so the limit keeps a compile within minutes instead of hours.
//
//===----------------------------------------------------------------------===//

#ifndef GRADC_FRONTEND_MODELBUDGET_H
#define GRADC_FRONTEND_MODELBUDGET_H

#include "frontend/ModelChecker.h"

#include "absl/status/status.h"

#include <cstdint>
#include <optional>
#include <string>

namespace gradc {

/// The machine's physical memory in bytes (0 when unknown).
int64_t physicalMemoryBytes();

/// A limit on the memory a run may use, and what sets it.
struct MemoryLimit {
  /// 0 when nothing limits the memory (or nothing is known).
  int64_t bytes = 0;
  /// Where the limit comes from, for the error: "the machine's physical
  /// memory", "the cgroup's memory.max in /sys/fs/cgroup/job", ...
  std::string source;
  /// Set by an rlimit or a cgroup: the kernel enforces it, and a run beyond
  /// it fails whatever --memory-limit says.
  bool enforced = false;
};

/// The limits the process runs under, in bytes (0 for none).
struct ProcessLimits {
  int64_t physicalBytes = 0;
  /// The soft RLIMIT_AS and RLIMIT_DATA (RLIM_INFINITY: 0).
  int64_t addressSpaceBytes = 0;
  int64_t dataBytes = 0;
};

/// This process's: sysconf(_SC_PHYS_PAGES) and getrlimit().
ProcessLimits currentProcessLimits();

/// The smallest of: `limits.physicalBytes`; `limits.addressSpaceBytes` less
/// the process's VmSize and `limits.dataBytes` less its VmData (both read
/// from <root>/proc/self/status); and the cgroup's limit
/// (cgroupMemoryLimit() of <root>/proc/self/cgroup). `root` is "/" but in
/// tests, which lay out a fake /proc and /sys under a temporary directory.
MemoryLimit detectMemoryLimit(const ProcessLimits &limits,
                              const std::string &root);

/// The limit of this process: detectMemoryLimit(currentProcessLimits(), "/").
MemoryLimit detectMemoryLimit();

/// The memory limit of the cgroup that `procSelfCgroup` (the contents of
/// /proc/self/cgroup) names, under <root>/sys/fs/cgroup: the smallest
/// memory.max of the cgroup v2 ("0::/path") and of its parents up to the
/// root, and of the cgroup v1 memory controller's ("N:memory:/path")
/// memory.limit_in_bytes under <root>/sys/fs/cgroup/memory and its parents.
/// Files that are missing or say "max" limit nothing. {0, ""} when nothing
/// limits.
MemoryLimit cgroupMemoryLimit(const std::string &procSelfCgroup,
                              const std::string &root);

/// The bytes in a cgroup v2 memory.max: none for "max" or what does not
/// parse.
std::optional<int64_t> parseCgroupV2Limit(const std::string &contents);

/// The bytes in a cgroup v1 memory.limit_in_bytes: none for what does not
/// parse, or for 2^60 and beyond (the kernel's "unlimited" is 2^63 rounded
/// down to a page).
std::optional<int64_t> parseCgroupV1Limit(const std::string &contents);

/// The bytes of a "Name:   123 kB" line of /proc/self/status (`field` is
/// "VmSize", "VmData"): none when the line is missing.
std::optional<int64_t> parseProcStatusBytes(const std::string &status,
                                            const std::string &field);

/// "512 bytes", "28.4 KiB", "3.1 GiB".
std::string humanBytes(int64_t bytes);

/// The bytes a step of `batch` examples holds at least: parameters and
/// buffers, layer outputs, and when `training` their gradients and the
/// optimizer's slots.
int64_t stepMemoryBytes(const ResolvedModel &model, int64_t batch,
                        bool training);

/// Refuses a run whose step needs more than `limitBytes`, in one line naming
/// the layer at which the memory crosses the limit and the flag that raises
/// it. `limitSource` says where the limit came from.
absl::Status checkMemoryBudget(const ResolvedModel &model, int64_t batch,
                               bool training, int64_t limitBytes,
                               const char *limitSource);

/// The same against `limit`: a limit the kernel enforces asks to raise that
/// limit, not --memory-limit.
absl::Status checkMemoryBudget(const ResolvedModel &model, int64_t batch,
                               bool training, const MemoryLimit &limit);

/// Machine code every compiled module holds at least, whatever its layers:
/// the loss, the optimizer's update and the entry points (a one-layer model
/// compiles to 70 KiB).
constexpr int64_t kModuleCodeBytes = int64_t(48) << 10;
/// The default limit on a module's estimated machine code.
constexpr int64_t kDefaultCodeLimitBytes = int64_t(16) << 20;

/// The machine code the compiled module holds at least:
/// kModuleCodeBytes plus every layer's codeBytes.
int64_t moduleCodeBytes(const ResolvedModel &model);

/// Refuses a model whose compiled module needs more than `limitBytes` of
/// machine code, in one line naming the layer at which the estimate crosses
/// the limit and the flag that raises it.
absl::Status checkCodeBudget(const ResolvedModel &model, int64_t limitBytes,
                             const char *limitSource);

} // namespace gradc

#endif // GRADC_FRONTEND_MODELBUDGET_H
