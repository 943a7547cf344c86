//===- ZipArchive.cpp - the ZIP reader behind .npz archives ---------------===//
//
// An archive is read through its end-of-central-directory record and
// central directory (NumPy's local headers carry ZIP64 extras and are used
// only to find the data); deflated entries are inflated with zlib into a
// buffer that grows as data arrives, bounded by the declared size, and
// every entry is checked against its CRC-32.
//
//===----------------------------------------------------------------------===//

#include "runtime/data/ZipArchive.h"

#include "runtime/data/LittleEndian.h"

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"

#include <zlib.h>

#include <algorithm>
#include <cstring>

namespace gradc {
namespace {

// Deflate expands at most 1032 times (a stream of zeros).
constexpr uint64_t kMaxDeflateRatio = 1032;
// The arrays of an archive together may not exceed this once inflated.
constexpr uint64_t kMaxArchiveArrayBytes = uint64_t(16) << 30;
// Inflated data grows by at most this much per step, so that a declared
// size that lies costs at most this much beyond the real data.
constexpr uint64_t kInflateChunk = uint64_t(64) << 20;

absl::Status invalid(const std::string &prefix, absl::string_view message) {
  return absl::InvalidArgumentError(absl::StrCat(prefix, message));
}

// ZIP records (APPNOTE.TXT): signatures and fixed sizes.
constexpr uint32_t kLocalHeaderSig = 0x04034b50;
constexpr uint32_t kCentralHeaderSig = 0x02014b50;
constexpr uint32_t kEndOfCentralDirSig = 0x06054b50;
constexpr uint32_t kZip64LocatorSig = 0x07064b50;
constexpr uint64_t kLocalHeaderSize = 30;
constexpr uint64_t kCentralHeaderSize = 46;
constexpr uint64_t kEndOfCentralDirSize = 22;

const char *methodName(uint16_t method) {
  switch (method) {
  case 1:
    return " (shrink)";
  case 6:
    return " (implode)";
  case 9:
    return " (deflate64)";
  case 12:
    return " (bzip2)";
  case 14:
    return " (LZMA)";
  case 93:
    return " (Zstandard)";
  case 95:
    return " (XZ)";
  case 99:
    return " (AES encryption)";
  default:
    return "";
  }
}

} // namespace

absl::StatusOr<std::vector<uint8_t>>
inflateZipEntry(std::string_view compressed, uint64_t size,
                const std::string &prefix) {
  z_stream z;
  std::memset(&z, 0, sizeof z);
  if (inflateInit2(&z, -MAX_WBITS) != Z_OK)
    return absl::ResourceExhaustedError(
        absl::StrCat(prefix, "cannot start zlib's inflate"));
  std::vector<uint8_t> out;
  // The compressed size is below 2^32 (ZIP64 is refused), so it fits uInt.
  z.next_in = const_cast<Bytef *>(bytesAt(compressed));
  z.avail_in = uInt(compressed.size());
  int code = Z_OK;
  uint64_t done = 0;
  for (;;) {
    if (done == out.size()) {
      if (out.size() == size) {
        // Room for one more byte tells a stream that ends here from one
        // that would produce more than declared.
        uint8_t extra;
        z.next_out = &extra;
        z.avail_out = 1;
        code = inflate(&z, Z_FINISH);
        if (z.avail_out == 0) {
          inflateEnd(&z);
          return invalid(prefix, absl::StrCat("inflates to more than the ",
                                              size, " bytes it declares"));
        }
        break;
      }
      out.resize(std::min<uint64_t>(size, done + kInflateChunk));
    }
    z.next_out = out.data() + done;
    z.avail_out = uInt(std::min<uint64_t>(out.size() - done, 1u << 30));
    uInt before = z.avail_out;
    code = inflate(&z, Z_NO_FLUSH);
    done += before - z.avail_out;
    if (code != Z_OK)
      break;
  }
  std::string message = z.msg ? z.msg : "";
  uInt leftIn = z.avail_in;
  inflateEnd(&z);
  if (code == Z_DATA_ERROR || code == Z_NEED_DICT)
    return invalid(prefix, absl::StrCat("corrupt deflate data: ",
                                        message.empty() ? "invalid" : message));
  if (code == Z_MEM_ERROR)
    return absl::ResourceExhaustedError(
        absl::StrCat(prefix, "out of memory while inflating"));
  if (code != Z_STREAM_END)
    return invalid(
        prefix, done < size
                    ? absl::StrCat("truncated deflate data: it stops after ",
                                   done, " of the ", size, " bytes it declares")
                    : absl::StrCat("truncated deflate data: the stream "
                                   "does not end after the ",
                                   size, " bytes it declares"));
  if (done != size)
    return invalid(prefix, absl::StrCat("inflates to ", done,
                                        " bytes, the archive declares ", size));
  if (leftIn != 0)
    return invalid(prefix,
                   absl::StrCat(leftIn, " bytes follow the end of the deflate "
                                        "stream within the entry"));
  return out;
}

std::optional<uint64_t> findZipEndRecord(std::string_view zip) {
  if (zip.size() < kEndOfCentralDirSize)
    return std::nullopt;
  uint64_t last = zip.size() - kEndOfCentralDirSize;
  uint64_t first = last > 0xFFFF ? last - 0xFFFF : 0;
  for (uint64_t pos = last + 1; pos-- > first;) {
    if (le32(bytesAt(zip, pos)) == kEndOfCentralDirSig &&
        pos + kEndOfCentralDirSize + le16(bytesAt(zip, pos + 20)) == zip.size())
      return pos;
  }
  return std::nullopt;
}

absl::StatusOr<std::vector<ZipEntry>>
readZipDirectory(std::string_view zip, const std::string &path) {
  std::string prefix = absl::StrCat(path, ": error: ");
  std::optional<uint64_t> end = findZipEndRecord(zip);
  if (!end)
    return invalid(prefix, "not a ZIP archive (no end of central directory "
                           "record); expected an .npz file from np.savez");
  const uint8_t *e = bytesAt(zip, *end);
  uint16_t disk = le16(e + 4), cdDisk = le16(e + 6);
  uint16_t diskEntries = le16(e + 8), entries = le16(e + 10);
  uint32_t cdSize = le32(e + 12), cdOffset = le32(e + 16);
  if ((*end >= 20 && le32(bytesAt(zip, *end - 20)) == kZip64LocatorSig) ||
      entries == 0xFFFF || cdSize == 0xFFFFFFFF || cdOffset == 0xFFFFFFFF)
    return invalid(prefix, "ZIP64 archives (over 4 GiB or 65535 entries) are "
                           "not supported");
  if (disk != 0 || cdDisk != 0 || diskEntries != entries)
    return invalid(prefix, "multi-part ZIP archives are not supported");
  if (uint64_t(cdOffset) + cdSize > *end)
    return invalid(prefix, absl::StrCat("corrupt archive: the central "
                                        "directory (",
                                        cdSize, " bytes at offset ", cdOffset,
                                        ") overlaps its end record at ", *end));
  std::vector<ZipEntry> list;
  uint64_t pos = cdOffset, cdEnd = uint64_t(cdOffset) + cdSize;
  for (uint32_t k = 0; k < entries; ++k) {
    if (pos + kCentralHeaderSize > cdEnd ||
        le32(bytesAt(zip, pos)) != kCentralHeaderSig)
      return invalid(prefix, absl::StrCat("corrupt archive: entry ", k + 1,
                                          " of ", entries,
                                          " of the central directory is "
                                          "missing or damaged"));
    const uint8_t *c = bytesAt(zip, pos);
    uint16_t flags = le16(c + 8);
    ZipEntry entry;
    entry.method = le16(c + 10);
    entry.crc = le32(c + 16);
    uint32_t compressedSize = le32(c + 20), size = le32(c + 24);
    uint16_t nameLength = le16(c + 28), extraLength = le16(c + 30),
             commentLength = le16(c + 32);
    uint32_t localHeader = le32(c + 42);
    uint64_t next =
        pos + kCentralHeaderSize + nameLength + extraLength + commentLength;
    if (next > cdEnd)
      return invalid(prefix, absl::StrCat("corrupt archive: entry ", k + 1,
                                          " runs past the central directory"));
    entry.name.assign(zip.substr(pos + kCentralHeaderSize, nameLength));
    std::string entryPrefix =
        absl::StrCat(prefix, "entry '", absl::CHexEscape(entry.name), "': ");
    if (flags & 0x41)
      return invalid(entryPrefix, "is encrypted; encryption is not supported");
    if (entry.method != 0 && entry.method != 8)
      return invalid(
          entryPrefix,
          absl::StrCat("compression method ", entry.method,
                       methodName(entry.method),
                       " is not supported; NumPy writes stored (np.savez) or "
                       "deflated (np.savez_compressed) entries"));
    if (compressedSize == 0xFFFFFFFF || size == 0xFFFFFFFF ||
        localHeader == 0xFFFFFFFF)
      return invalid(entryPrefix,
                     "ZIP64 entries (over 4 GiB) are not supported");
    entry.compressedSize = compressedSize;
    entry.size = size;
    entry.localHeader = localHeader;
    list.push_back(std::move(entry));
    pos = next;
  }
  if (pos != cdEnd)
    return invalid(prefix,
                   absl::StrCat("corrupt archive: the central directory has ",
                                cdEnd - pos, " bytes after its ", entries,
                                " entries"));

  // Local headers: only where the data start; the names must agree.
  uint64_t total = 0;
  for (ZipEntry &entry : list) {
    std::string entryPrefix =
        absl::StrCat(prefix, "entry '", absl::CHexEscape(entry.name), "': ");
    uint64_t h = entry.localHeader;
    if (h + kLocalHeaderSize > cdOffset ||
        le32(bytesAt(zip, h)) != kLocalHeaderSig)
      return invalid(
          entryPrefix,
          absl::StrCat("corrupt archive: no local header at offset ", h));
    uint16_t nameLength = le16(bytesAt(zip, h + 26)),
             extraLength = le16(bytesAt(zip, h + 28));
    entry.dataStart = h + kLocalHeaderSize + nameLength + extraLength;
    if (entry.dataStart + entry.compressedSize > cdOffset)
      return invalid(entryPrefix,
                     absl::StrCat("corrupt archive: its ", entry.compressedSize,
                                  " bytes of data at offset ", entry.dataStart,
                                  " run past the central directory at ",
                                  cdOffset));
    if (zip.substr(h + kLocalHeaderSize, nameLength) != entry.name)
      return invalid(entryPrefix, "corrupt archive: the local header names "
                                  "another file");
    if (entry.method == 0 && entry.size != entry.compressedSize)
      return invalid(entryPrefix,
                     absl::StrCat("corrupt archive: a stored entry of ",
                                  entry.size, " bytes takes ",
                                  entry.compressedSize));
    if (entry.method == 8 &&
        entry.size > entry.compressedSize * kMaxDeflateRatio)
      return invalid(entryPrefix,
                     absl::StrCat("declares ", entry.size, " bytes from ",
                                  entry.compressedSize,
                                  " compressed ones, more than deflate can "
                                  "expand (",
                                  kMaxDeflateRatio, " times)"));
    total += entry.size;
    if (total > kMaxArchiveArrayBytes)
      return invalid(prefix,
                     absl::StrCat("the arrays add up to more than ",
                                  kMaxArchiveArrayBytes, " bytes; refused"));
  }
  // Entries may not share data: each is read once, so the sum of their
  // sizes is bounded by the file's size times the deflate ratio.
  std::vector<const ZipEntry *> byOffset;
  for (const ZipEntry &entry : list)
    byOffset.push_back(&entry);
  std::sort(byOffset.begin(), byOffset.end(),
            [](const ZipEntry *a, const ZipEntry *b) {
              return a->localHeader < b->localHeader;
            });
  for (size_t i = 1; i < byOffset.size(); ++i) {
    const ZipEntry &a = *byOffset[i - 1], &b = *byOffset[i];
    if (a.dataStart + a.compressedSize > b.localHeader)
      return invalid(prefix,
                     absl::StrCat("corrupt archive: entries '",
                                  absl::CHexEscape(a.name), "' and '",
                                  absl::CHexEscape(b.name), "' overlap"));
  }
  return list;
}

absl::Status checkZipCrc(const ZipEntry &entry, const uint8_t *bytes,
                         size_t size, const std::string &prefix) {
  uint32_t crc = uint32_t(crc32_z(0, bytes, size));
  if (crc == entry.crc)
    return absl::OkStatus();
  return invalid(prefix, absl::StrCat("CRC-32 mismatch: the archive says ",
                                      absl::Hex(entry.crc, absl::kZeroPad8),
                                      ", the data have ",
                                      absl::Hex(crc, absl::kZeroPad8)));
}

} // namespace gradc
