//===- MemoryLimitTest.cpp - the memory limit a scheduler sets ------------===//
//
// The memory budget's limit (frontend/ModelBudget.h) is the smallest of the
// physical memory, RLIMIT_AS and RLIMIT_DATA less what the process already
// uses, and the cgroup's memory limit. The file parsers on their own; the
// detection on a fake /proc and /sys laid out in a temporary directory
// (cgroup v2 and v1, a limit set on a parent, limits that say "none"); and
// this process's own RLIMIT_AS, lowered in a child.
//
//===----------------------------------------------------------------------===//

#include "frontend/ModelBudget.h"

#include "gtest/gtest.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

using namespace gradc;
namespace fs = std::filesystem;

namespace {

constexpr int64_t kGiB = int64_t(1) << 30;

/// A temporary directory standing for "/", removed at the end of the test.
class FakeRoot {
public:
  FakeRoot() {
    std::string pattern =
        (fs::temp_directory_path() / "gradc-memory-limit-XXXXXX").string();
    if (!mkdtemp(pattern.data()))
      ADD_FAILURE() << "mkdtemp " << pattern;
    root_ = pattern;
  }
  ~FakeRoot() {
    std::error_code ignored;
    fs::remove_all(root_, ignored);
  }
  const std::string &path() const { return root_; }

  /// Writes `contents` to <root>/`path`, making its directories.
  void write(const std::string &path, const std::string &contents) {
    fs::path file = fs::path(root_) / path.substr(1);
    fs::create_directories(file.parent_path());
    std::ofstream(file) << contents;
  }

private:
  std::string root_;
};

const char *kStatus = "Name:\tgradc\n"
                      "VmPeak:\t 1200000 kB\n"
                      "VmSize:\t 1048576 kB\n"
                      "VmData:\t  262144 kB\n"
                      "VmStk:\t     132 kB\n";

} // namespace

TEST(MemoryLimit, ParsesCgroupFiles) {
  EXPECT_EQ(parseCgroupV2Limit("2147483648\n"), 2 * kGiB);
  EXPECT_EQ(parseCgroupV2Limit("max\n"), std::nullopt);
  EXPECT_EQ(parseCgroupV2Limit(""), std::nullopt);
  EXPECT_EQ(parseCgroupV2Limit("-5\n"), std::nullopt);
  EXPECT_EQ(parseCgroupV1Limit("104857600\n"), 100 << 20);
  // The kernel's "unlimited": 2^63 - 1 rounded down to a page.
  EXPECT_EQ(parseCgroupV1Limit("9223372036854771712\n"), std::nullopt);
  EXPECT_EQ(parseCgroupV1Limit("1152921504606846976\n"), std::nullopt);
  EXPECT_EQ(parseCgroupV1Limit("1152921504606846975\n"),
            (int64_t(1) << 60) - 1);
}

TEST(MemoryLimit, ParsesProcStatus) {
  EXPECT_EQ(parseProcStatusBytes(kStatus, "VmSize"), kGiB);
  EXPECT_EQ(parseProcStatusBytes(kStatus, "VmData"), kGiB / 4);
  EXPECT_EQ(parseProcStatusBytes(kStatus, "VmSwap"), std::nullopt);
  // A prefix of another field's name is not that field.
  EXPECT_EQ(parseProcStatusBytes(kStatus, "Vm"), std::nullopt);
  EXPECT_EQ(parseProcStatusBytes("VmSize:\tlots\n", "VmSize"), std::nullopt);
}

TEST(MemoryLimit, CgroupV2TakesTheSmallestUpTheTree) {
  FakeRoot root;
  // The job's own memory.max says "max"; its parent's is 3 GiB, the
  // slice's 2 GiB; the root has none.
  root.write("/sys/fs/cgroup/user.slice/job.scope/memory.max", "max\n");
  root.write("/sys/fs/cgroup/user.slice/job.scope/memory.current", "123\n");
  root.write("/sys/fs/cgroup/user.slice/memory.max", "2147483648\n");
  MemoryLimit limit =
      cgroupMemoryLimit("0::/user.slice/job.scope\n", root.path());
  EXPECT_EQ(limit.bytes, 2 * kGiB);
  EXPECT_EQ(limit.source, "the cgroup's memory.max in " + root.path() +
                              "/sys/fs/cgroup/user.slice");
  EXPECT_TRUE(limit.enforced);

  // A smaller limit on the job itself binds instead.
  root.write("/sys/fs/cgroup/user.slice/job.scope/memory.max", "1073741824\n");
  limit = cgroupMemoryLimit("0::/user.slice/job.scope\n", root.path());
  EXPECT_EQ(limit.bytes, kGiB);
  EXPECT_NE(limit.source.find("job.scope"), std::string::npos) << limit.source;

  // A container's own cgroup at the root of its namespace.
  FakeRoot container;
  container.write("/sys/fs/cgroup/memory.max", "536870912\n");
  EXPECT_EQ(cgroupMemoryLimit("0::/\n", container.path()).bytes, kGiB / 2);

  // Nothing limits: "max" everywhere, or no files at all.
  FakeRoot unlimited;
  unlimited.write("/sys/fs/cgroup/a/memory.max", "max\n");
  EXPECT_EQ(cgroupMemoryLimit("0::/a\n", unlimited.path()).bytes, 0);
  EXPECT_EQ(cgroupMemoryLimit("0::/b/c\n", unlimited.path()).bytes, 0);
  EXPECT_EQ(cgroupMemoryLimit("", unlimited.path()).bytes, 0);
}

TEST(MemoryLimit, CgroupV1ReadsTheMemoryController) {
  FakeRoot root;
  // A hybrid machine: the v2 line names the root, the memory controller's
  // v1 line the job, whose limit is the kernel's "unlimited"; its parent's
  // is 512 MiB. Another controller's limit-like file is not read.
  root.write("/sys/fs/cgroup/memory/docker/abc/memory.limit_in_bytes",
             "9223372036854771712\n");
  root.write("/sys/fs/cgroup/memory/docker/memory.limit_in_bytes",
             "536870912\n");
  root.write("/sys/fs/cgroup/cpu/docker/abc/memory.limit_in_bytes", "1\n");
  std::string cgroup = "12:cpu,cpuacct:/docker/abc\n"
                       "4:memory:/docker/abc\n"
                       "1:name=systemd:/docker/abc\n"
                       "0::/\n";
  MemoryLimit limit = cgroupMemoryLimit(cgroup, root.path());
  EXPECT_EQ(limit.bytes, kGiB / 2);
  EXPECT_EQ(limit.source, "the cgroup's memory.limit_in_bytes in " +
                              root.path() + "/sys/fs/cgroup/memory/docker");
  // Inside a container whose mount is its own cgroup, the path in
  // /proc/self/cgroup does not exist under the mount: the mount's root
  // file is still read.
  FakeRoot container;
  container.write("/sys/fs/cgroup/memory/memory.limit_in_bytes", "268435456\n");
  EXPECT_EQ(cgroupMemoryLimit("4:memory:/docker/abc\n", container.path()).bytes,
            kGiB / 4);
}

TEST(MemoryLimit, TakesTheSmallestLimit) {
  FakeRoot root;
  root.write("/proc/self/status", kStatus);
  root.write("/proc/self/cgroup", "0::/job\n");
  ProcessLimits limits;
  limits.physicalBytes = 24 * kGiB;

  // Physical memory alone.
  MemoryLimit limit = detectMemoryLimit(limits, root.path());
  EXPECT_EQ(limit.bytes, 24 * kGiB);
  EXPECT_EQ(limit.source, "the machine's physical memory");
  EXPECT_FALSE(limit.enforced);

  // RLIMIT_AS of 8 GB, less the 1 GiB of VmSize already mapped.
  limits.addressSpaceBytes = 8000000000;
  limit = detectMemoryLimit(limits, root.path());
  EXPECT_EQ(limit.bytes, 8000000000 - kGiB);
  EXPECT_EQ(limit.source, "the process's address-space limit (RLIMIT_AS) of "
                          "7.5 GiB less the 1.0 GiB already mapped");
  EXPECT_TRUE(limit.enforced);

  // RLIMIT_DATA of 4 GiB, less the 256 MiB of VmData.
  limits.dataBytes = 4 * kGiB;
  limit = detectMemoryLimit(limits, root.path());
  EXPECT_EQ(limit.bytes, 4 * kGiB - kGiB / 4);
  EXPECT_NE(limit.source.find("RLIMIT_DATA"), std::string::npos)
      << limit.source;

  // The cgroup's 2 GiB.
  root.write("/sys/fs/cgroup/job/memory.max", "2147483648\n");
  limit = detectMemoryLimit(limits, root.path());
  EXPECT_EQ(limit.bytes, 2 * kGiB);
  EXPECT_NE(limit.source.find("memory.max"), std::string::npos) << limit.source;

  // An address-space limit the process has already used up leaves nothing
  // (one byte: 0 would mean "no limit").
  limits.addressSpaceBytes = kGiB / 2;
  limit = detectMemoryLimit(limits, root.path());
  EXPECT_EQ(limit.bytes, 1);
  EXPECT_NE(limit.source.find("RLIMIT_AS"), std::string::npos) << limit.source;

  // Nothing known at all: no limit.
  FakeRoot empty;
  EXPECT_EQ(detectMemoryLimit(ProcessLimits(), empty.path()).bytes, 0);
}

TEST(MemoryLimit, ThisProcess) {
#if defined(__has_feature)
#if __has_feature(address_sanitizer)
  // AddressSanitizer's shadow memory is terabytes of address space: an
  // RLIMIT_AS set in the child would not leave room for it.
  GTEST_SKIP() << "RLIMIT_AS cannot be tested under AddressSanitizer";
#endif
#endif
  MemoryLimit limit = detectMemoryLimit();
  ASSERT_GT(limit.bytes, 0);
  EXPECT_LE(limit.bytes, physicalMemoryBytes());
  EXPECT_FALSE(limit.source.empty());

  // A child lowers its soft RLIMIT_AS to 1 GiB above what it has mapped:
  // the limit is that 1 GiB (the child maps a little more meanwhile).
  pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    std::ifstream in("/proc/self/status");
    std::string status((std::istreambuf_iterator<char>(in)),
                       std::istreambuf_iterator<char>());
    int64_t mapped = parseProcStatusBytes(status, "VmSize").value_or(0);
    struct rlimit as;
    getrlimit(RLIMIT_AS, &as);
    as.rlim_cur = rlim_t(mapped + kGiB);
    if (mapped <= 0 || setrlimit(RLIMIT_AS, &as) != 0)
      _exit(2);
    MemoryLimit l = detectMemoryLimit();
    bool ok = l.enforced && l.bytes <= kGiB && l.bytes > kGiB - (64 << 20) &&
              l.source.find("RLIMIT_AS") != std::string::npos;
    _exit(ok ? 0 : 1);
  }
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0)
      << "1: the limit did not come from RLIMIT_AS less VmSize; 2: setup";
}
