//===- CompileCache.h - compiled code kept across runs ----------*- C++ -*-===//
//
// A directory of compiled modules (NativeCode), one file per key: the hash
// of everything that determines the code. A hit skips the MLIR pipeline and
// LLVM. Entries are written atomically (a temporary file, fsync, rename),
// carry their key and a BLAKE3 checksum, and are checked before use: a
// truncated, corrupt or foreign entry is removed and reported as a miss.
// The directory is bounded in size, least recently used entries first out
// (a hit touches its entry). Concurrent runs may share the directory.
//
//===----------------------------------------------------------------------===//

#ifndef GRADC_RUNTIME_COMPILECACHE_H
#define GRADC_RUNTIME_COMPILECACHE_H

#include "runtime/jit/Jit.h"

#include "absl/status/status.h"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace gradc {

/// $XDG_CACHE_HOME/gradc, else $HOME/.cache/gradc.
std::string defaultCacheDir();

/// The size bound: $GRADC_CACHE_MAX_MB mebibytes, 1024 by default.
int64_t defaultCacheBytes();

/// What determines compiled code besides the module: gradc's build (a hash
/// of the running executable), LLVM's version, and the host CPU's name and
/// features.
std::string buildAndHostFingerprint();

class CompileCache {
public:
  explicit CompileCache(std::string dir, int64_t maxBytes = defaultCacheBytes())
      : dir(std::move(dir)), maxBytes(maxBytes) {}

  /// The hex BLAKE3 hash of `parts` (each length-prefixed).
  static std::string key(const std::vector<std::string> &parts);

  /// The entry of `key`, or nullopt on a miss. A bad entry is removed and
  /// `warning` says why (one line); it is a miss too.
  std::optional<NativeCode> lookup(const std::string &key,
                                   std::string *warning = nullptr);

  /// Writes the entry of `key` atomically, then evicts the least recently
  /// used entries beyond the size bound. An error leaves no partial entry.
  absl::Status store(const std::string &key, const NativeCode &code);

  struct Info {
    int64_t entries = 0, bytes = 0;
  };
  Info info() const;

  /// Removes every entry (and temporary file) of the directory.
  absl::Status clear();

  const std::string &directory() const { return dir; }
  int64_t sizeBound() const { return maxBytes; }

  /// The file of `key`'s entry.
  std::string path(const std::string &key) const;

private:
  void evict();
  std::string dir;
  int64_t maxBytes;
};

/// Serialized entries (for tests and fuzzing): encode, and decode with
/// every check; the checksum an entry ends with.
std::string encodeCacheEntry(const std::string &key, const NativeCode &code);
absl::StatusOr<NativeCode> decodeCacheEntry(const std::string &bytes,
                                            const std::string &key);
std::string cacheEntryChecksum(const std::string &bytes);

} // namespace gradc

#endif // GRADC_RUNTIME_COMPILECACHE_H
