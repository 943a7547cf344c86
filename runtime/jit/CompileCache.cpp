//===- CompileCache.cpp - compiled code kept across runs ------------------===//
//
// An entry file: "GRADC-CACHE 1\n", then little-endian fields (u32 lengths,
// u64 sizes): the key, the arity of each entry point, each object with the
// function it holds, and last the 32-byte BLAKE3 hash of everything before
// it. Every length is checked against the bytes left before it is used.
//
//===----------------------------------------------------------------------===//

#include "runtime/jit/CompileCache.h"

#include "support/Files.h"

#include "absl/strings/str_cat.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Config/llvm-config.h"
#include "llvm/Support/BLAKE3.h"
#include "llvm/TargetParser/Host.h"

#include <algorithm>
#include <cstdlib>
#include <dirent.h>
#include <map>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>

namespace gradc {

namespace {

constexpr llvm::StringLiteral kMagic = "GRADC-CACHE 1\n";
constexpr const char *kSuffix = ".gco";
/// No entry is larger: a file claiming more is not read.
constexpr int64_t kMaxEntryBytes = int64_t(1) << 30;
constexpr size_t kHashBytes = 32;

std::string hex(llvm::ArrayRef<uint8_t> bytes) {
  static const char digits[] = "0123456789abcdef";
  std::string s;
  for (uint8_t b : bytes) {
    s += digits[b >> 4];
    s += digits[b & 15];
  }
  return s;
}

std::string checksum(llvm::StringRef bytes) {
  auto h = llvm::BLAKE3::hash<kHashBytes>(llvm::arrayRefFromStringRef(bytes));
  return std::string(h.begin(), h.end());
}

void putU32(std::string &out, uint32_t v) {
  for (int i = 0; i < 4; ++i)
    out += char((v >> (8 * i)) & 0xff);
}
void putU64(std::string &out, uint64_t v) {
  for (int i = 0; i < 8; ++i)
    out += char((v >> (8 * i)) & 0xff);
}
void putString(std::string &out, llvm::StringRef s) {
  putU32(out, uint32_t(s.size()));
  out += s.str();
}

/// Reads fields in order; any read past the end fails.
struct Reader {
  llvm::StringRef rest;
  bool ok = true;

  uint64_t u(int bytes) {
    if (rest.size() < size_t(bytes)) {
      ok = false;
      return 0;
    }
    uint64_t v = 0;
    for (int i = 0; i < bytes; ++i)
      v |= uint64_t(uint8_t(rest[i])) << (8 * i);
    rest = rest.drop_front(bytes);
    return v;
  }
  llvm::StringRef bytes(uint64_t n) {
    if (rest.size() < n) {
      ok = false;
      return {};
    }
    llvm::StringRef s = rest.take_front(n);
    rest = rest.drop_front(n);
    return s;
  }
  std::string string() { return bytes(u(4)).str(); }
};

struct Entry {
  std::string path;
  int64_t bytes;
  struct timespec used;
};

/// The entries (and, with `temporaries`, the temporary files) of `dir`.
std::vector<Entry> listEntries(const std::string &dir, bool temporaries) {
  std::vector<Entry> entries;
  DIR *d = ::opendir(dir.c_str());
  if (!d)
    return entries;
  while (struct dirent *e = ::readdir(d)) {
    llvm::StringRef name(e->d_name);
    bool entry = name.ends_with(kSuffix);
    bool temporary = name.contains(".gco.tmp.");
    if (!entry && !(temporaries && temporary))
      continue;
    std::string path = dir + "/" + name.str();
    struct stat st;
    if (::lstat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode))
      continue;
    entries.push_back({path, int64_t(st.st_size), st.st_mtim});
  }
  ::closedir(d);
  return entries;
}

/// Creates `dir` and its parents.
absl::Status makeDirectories(const std::string &dir) {
  for (size_t i = 1; i <= dir.size(); ++i) {
    if (i < dir.size() && dir[i] != '/')
      continue;
    std::string prefix = dir.substr(0, i);
    if (::mkdir(prefix.c_str(), 0755) != 0 && errno != EEXIST)
      return absl::UnavailableError(absl::StrCat(
          prefix, ": error: cannot create the compile cache directory: ",
          std::strerror(errno)));
  }
  return absl::OkStatus();
}

} // namespace

std::string defaultCacheDir() {
  if (const char *xdg = getenv("XDG_CACHE_HOME"); xdg && *xdg == '/')
    return absl::StrCat(xdg, "/gradc");
  if (const char *home = getenv("HOME"); home && *home)
    return absl::StrCat(home, "/.cache/gradc");
  return "/tmp/gradc-cache";
}

int64_t defaultCacheBytes() {
  int64_t mb = 1024;
  if (const char *env = getenv("GRADC_CACHE_MAX_MB")) {
    char *end = nullptr;
    long long v = std::strtoll(env, &end, 10);
    if (end != env && *end == '\0' && v >= 0 && v <= (int64_t(1) << 30))
      mb = v;
  }
  return mb << 20;
}

std::string buildAndHostFingerprint() {
  static const std::string fingerprint = [] {
    // The executable's contents stand for gradc's version: any rebuild
    // (a changed pass, a changed lowering) changes them.
    std::string exe = "unknown";
    if (auto bytes =
            readRegularFile("/proc/self/exe", "executable", int64_t(1) << 32);
        bytes.ok())
      exe = hex(llvm::BLAKE3::hash(llvm::arrayRefFromStringRef(*bytes)));
    std::string s =
        absl::StrCat("gradc ", exe, "; LLVM " LLVM_VERSION_STRING "; cpu ",
                     llvm::sys::getHostCPUName().str(), ";");
    std::map<std::string, bool> features;
    for (const auto &f : llvm::sys::getHostCPUFeatures())
      features[f.getKey().str()] = f.getValue();
    for (const auto &[name, on] : features)
      s += absl::StrCat(on ? " +" : " -", name);
    return s;
  }();
  return fingerprint;
}

std::string CompileCache::key(const std::vector<std::string> &parts) {
  llvm::BLAKE3 h;
  for (const std::string &p : parts) {
    std::string length;
    putU64(length, p.size());
    h.update(length);
    h.update(p);
  }
  return hex(h.final());
}

std::string cacheEntryChecksum(const std::string &bytes) {
  return checksum(bytes);
}

std::string CompileCache::path(const std::string &key) const {
  return absl::StrCat(dir, "/", key, kSuffix);
}

std::string encodeCacheEntry(const std::string &key, const NativeCode &code) {
  std::string out(kMagic);
  putString(out, key);
  putU32(out, uint32_t(code.arity.size()));
  for (const auto &[name, arity] : code.arity) {
    putString(out, name);
    putU64(out, arity);
  }
  putU32(out, uint32_t(code.objects.size()));
  for (size_t i = 0; i < code.objects.size(); ++i) {
    putString(out, i < code.partitions.size() ? code.partitions[i].function
                                              : std::string());
    putU64(out, code.objects[i].size());
    out += code.objects[i];
  }
  out += checksum(out);
  return out;
}

absl::StatusOr<NativeCode> decodeCacheEntry(const std::string &bytes,
                                            const std::string &key) {
  llvm::StringRef all(bytes);
  if (!all.starts_with(kMagic))
    return absl::DataLossError("not a gradc compile cache entry");
  if (all.size() < kMagic.size() + kHashBytes)
    return absl::DataLossError("truncated");
  llvm::StringRef body = all.drop_back(kHashBytes);
  if (checksum(body) != all.take_back(kHashBytes))
    return absl::DataLossError("checksum mismatch (truncated or corrupt)");
  Reader r{body.drop_front(kMagic.size())};
  if (r.string() != key)
    return absl::DataLossError("it holds the code of another key");
  NativeCode code;
  uint64_t functions = r.u(4);
  for (uint64_t i = 0; r.ok && i < functions; ++i) {
    std::string name = r.string();
    code.arity[name] = size_t(r.u(8));
  }
  uint64_t objects = r.u(4);
  for (uint64_t i = 0; r.ok && i < objects; ++i) {
    std::string function = r.string();
    llvm::StringRef object = r.bytes(r.u(8));
    code.objects.push_back(object.str());
    code.partitions.push_back({function, int64_t(object.size()), 0});
  }
  if (!r.ok || !r.rest.empty() || code.objects.empty())
    return absl::DataLossError("malformed");
  return code;
}

std::optional<NativeCode> CompileCache::lookup(const std::string &key,
                                               std::string *warning) {
  std::string file = path(key);
  struct stat st;
  if (::stat(file.c_str(), &st) != 0)
    return std::nullopt;
  auto bytes = readRegularFile(file, "compile cache entry", kMaxEntryBytes);
  absl::StatusOr<NativeCode> code =
      bytes.ok() ? decodeCacheEntry(*bytes, key) : bytes.status();
  if (!code.ok()) {
    ::unlink(file.c_str());
    if (warning)
      *warning = absl::StrCat(
          "gradc: warning: compile cache entry ", file, " is unusable (",
          bytes.ok() ? code.status().message() : "cannot be read",
          "); removed, compiling again");
    return std::nullopt;
  }
  // Touch it: eviction takes the least recently used first.
  ::utimes(file.c_str(), nullptr);
  return std::move(*code);
}

absl::Status CompileCache::store(const std::string &key,
                                 const NativeCode &code) {
  if (absl::Status s = makeDirectories(dir); !s.ok())
    return s;
  std::string bytes = encodeCacheEntry(key, code);
  if (int64_t(bytes.size()) > std::min(maxBytes, kMaxEntryBytes))
    return absl::OkStatus(); // larger than the whole cache: not kept
  std::string file = path(key);
  // writeFileAtomically's temporary is FILE.tmp.PID: concurrent runs write
  // their own and the last rename wins, each a complete entry.
  if (absl::Status s = writeFileAtomically(file, bytes, "compile cache entry");
      !s.ok())
    return s;
  evict();
  return absl::OkStatus();
}

void CompileCache::evict() {
  std::vector<Entry> entries = listEntries(dir, /*temporaries=*/true);
  int64_t total = 0;
  time_t now = time(nullptr);
  std::vector<Entry> kept;
  for (Entry &e : entries) {
    // The temporary of a run killed while writing: gone after an hour.
    if (llvm::StringRef(e.path).contains(".gco.tmp.")) {
      if (now - e.used.tv_sec > 3600)
        ::unlink(e.path.c_str());
      continue;
    }
    total += e.bytes;
    kept.push_back(e);
  }
  std::sort(kept.begin(), kept.end(), [](const Entry &a, const Entry &b) {
    return a.used.tv_sec != b.used.tv_sec ? a.used.tv_sec < b.used.tv_sec
                                          : a.used.tv_nsec < b.used.tv_nsec;
  });
  for (const Entry &e : kept) {
    if (total <= maxBytes)
      break;
    ::unlink(e.path.c_str());
    total -= e.bytes;
  }
}

CompileCache::Info CompileCache::info() const {
  Info i;
  for (const Entry &e : listEntries(dir, /*temporaries=*/false)) {
    ++i.entries;
    i.bytes += e.bytes;
  }
  return i;
}

absl::Status CompileCache::clear() {
  for (const Entry &e : listEntries(dir, /*temporaries=*/true))
    if (::unlink(e.path.c_str()) != 0 && errno != ENOENT)
      return absl::UnavailableError(absl::StrCat(
          e.path, ": error: cannot remove: ", std::strerror(errno)));
  return absl::OkStatus();
}

} // namespace gradc
