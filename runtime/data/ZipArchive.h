//===- ZipArchive.h - the ZIP reader behind .npz archives -------*- C++ -*-===//
//
// Reads a ZIP archive held in memory the way NumPy's np.savez and
// np.savez_compressed write it: the end-of-central-directory record, the
// central directory and where each entry's data lie; stored entries as they
// are and deflated ones inflated within bounds, both checked against their
// CRC-32. ZIP64, multi-part archives, encryption and other compression
// methods are refused. Its only client is the .npz reader (Numpy.h), so
// its messages speak of .npz files and of what NumPy writes.
//
//===----------------------------------------------------------------------===//

#ifndef GRADC_RUNTIME_DATA_ZIPARCHIVE_H
#define GRADC_RUNTIME_DATA_ZIPARCHIVE_H

#include "absl/status/status.h"
#include "absl/status/statusor.h"

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace gradc {

/// An entry of the central directory, with where its data lie.
struct ZipEntry {
  std::string name;
  /// 0 stored, 8 deflated (the only methods accepted).
  uint16_t method = 0;
  uint32_t crc = 0;
  uint64_t compressedSize = 0;
  /// The size of the entry once inflated.
  uint64_t size = 0;
  uint64_t localHeader = 0;
  /// Where the entry's (compressed) data start in the archive.
  uint64_t dataStart = 0;
};

/// The offset of the end-of-central-directory record of `zip`, if it has
/// one (the last 22 bytes plus a comment of up to 65535).
std::optional<uint64_t> findZipEndRecord(std::string_view zip);

/// Reads the central directory of the archive `zip` (the whole file) and
/// the local headers it points at. Every entry's data lie inside the file,
/// entries do not overlap, a deflated entry's size is within deflate's
/// ratio of its compressed size and all entries together inflate to at
/// most 16 GiB. Errors start with "`path`: error: " and name the entry
/// concerned.
absl::StatusOr<std::vector<ZipEntry>> readZipDirectory(std::string_view zip,
                                                       const std::string &path);

/// Inflates the raw deflate stream `compressed`, which must produce
/// exactly `size` bytes. The output grows in steps of at most 64 MiB as
/// data arrive, so a size that lies costs little. Errors start with
/// `prefix`.
absl::StatusOr<std::vector<uint8_t>>
inflateZipEntry(std::string_view compressed, uint64_t size,
                const std::string &prefix);

/// The entry's uncompressed bytes against the CRC-32 the archive gives
/// them; the error starts with `prefix`.
absl::Status checkZipCrc(const ZipEntry &entry, const uint8_t *bytes,
                         size_t size, const std::string &prefix);

} // namespace gradc

#endif // GRADC_RUNTIME_DATA_ZIPARCHIVE_H
