//===- Numpy.cpp - NumPy .npy arrays and .npz archives as data sets -------===//
//
// The .npy header (magic, version, a Python dict literal) is parsed by a
// small strict parser that knows the three keys NumPy writes; the data
// size it implies is computed with overflow checks and compared with the
// bytes that follow before any allocation. An .npz archive is read through
// its end-of-central-directory record and central directory (NumPy's local
// headers carry ZIP64 extras and are used only to find the data); deflated
// entries are inflated with zlib into a buffer that grows as data arrives,
// bounded by the declared size, and checked against their CRC-32.
//
//===----------------------------------------------------------------------===//

#include "runtime/data/Numpy.h"

#include "support/Files.h"

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

#include <zlib.h>

#include <algorithm>
#include <cctype>
#include <cstring>
#include <limits>
#include <optional>

namespace gradc {
namespace {

constexpr std::string_view kNpyMagic("\x93NUMPY", 6);
// A .npy header is a few hundred bytes; a longer one is corrupt.
constexpr uint64_t kMaxHeaderBytes = 1 << 16;
// NumPy 2 allows 64 dimensions.
constexpr size_t kMaxRank = 64;
// Files above this are refused before reading (16 GiB: 4G floats).
constexpr int64_t kMaxFileBytes = int64_t(16) << 30;
// Deflate expands at most 1032 times (a stream of zeros).
constexpr uint64_t kMaxDeflateRatio = 1032;
// The arrays of an archive together may not exceed this once inflated.
constexpr uint64_t kMaxArchiveArrayBytes = uint64_t(16) << 30;
// Inflated data grows by at most this much per step, so that a declared
// size that lies costs at most this much beyond the real data.
constexpr uint64_t kInflateChunk = uint64_t(64) << 20;
// Values (or targets) per example beyond this are refused: only an array
// of zero examples can claim them, and sizes computed from them overflow.
constexpr int64_t kMaxExampleValues = std::numeric_limits<int32_t>::max();

uint16_t le16(const uint8_t *p) { return uint16_t(p[0] | (p[1] << 8)); }
uint32_t le32(const uint8_t *p) {
  return uint32_t(p[0]) | (uint32_t(p[1]) << 8) | (uint32_t(p[2]) << 16) |
         (uint32_t(p[3]) << 24);
}
uint64_t le64(const uint8_t *p) {
  return uint64_t(le32(p)) | (uint64_t(le32(p + 4)) << 32);
}
const uint8_t *u8(std::string_view s, size_t offset = 0) {
  return reinterpret_cast<const uint8_t *>(s.data()) + offset;
}

absl::Status invalid(const std::string &prefix, absl::string_view message) {
  return absl::InvalidArgumentError(absl::StrCat(prefix, message));
}

/// A header's text for an error message: at most 80 characters, escaped.
std::string quoteHeader(std::string_view text) {
  bool cut = text.size() > 80;
  return absl::StrCat("\"",
                      absl::CHexEscape(absl::string_view(
                          text.data(), std::min<size_t>(text.size(), 80))),
                      cut ? "...\"" : "\"");
}

/// What a .npy header says.
struct NpyHeader {
  NpyArray::Type type = NpyArray::Type::U8;
  std::vector<int64_t> shape;
  /// Where the data start and how many bytes the shape implies.
  uint64_t dataOffset = 0;
  uint64_t dataBytes = 0;
};

/// The dtypes accepted and how they are spelled in a header.
struct DtypeName {
  const char *descr;
  NpyArray::Type type;
};
constexpr DtypeName kDtypes[] = {{"|u1", NpyArray::Type::U8},
                                 {"<i4", NpyArray::Type::I32},
                                 {"<i8", NpyArray::Type::I64},
                                 {"<f4", NpyArray::Type::F32},
                                 {"<f8", NpyArray::Type::F64}};

std::string acceptedDtypes() {
  std::vector<std::string> names;
  for (const DtypeName &d : kDtypes)
    names.push_back(
        absl::StrCat("'", d.descr, "' (", npyTypeName(d.type), ")"));
  return absl::StrJoin(names, ", ");
}

/// Why a dtype is refused, with the conversion that would help.
std::string refuseDtype(const std::string &descr) {
  std::string hint;
  if (!descr.empty() && descr[0] == '>') {
    std::string little = "<" + descr.substr(1);
    bool convertible = false;
    for (const DtypeName &d : kDtypes)
      convertible |= little == d.descr;
    hint = convertible ? absl::StrCat(" (big-endian; convert with a.astype('",
                                      little, "'))")
                       : std::string(" (big-endian)");
  } else if (descr == "|b1") {
    hint = " (bool; convert with a.astype(np.uint8))";
  } else if (descr.size() >= 2 &&
             (descr[1] == 'f' || descr[1] == 'i' || descr[1] == 'u')) {
    hint = " (convert with a.astype(np.float32), or np.int64 for labels)";
  }
  return absl::StrCat("dtype '", absl::CHexEscape(descr), "' is not supported",
                      hint, "; accepted: ", acceptedDtypes());
}

/// A strict parser of the dict literal NumPy writes, e.g.
/// {'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }
class HeaderParser {
public:
  HeaderParser(std::string_view text, const std::string &prefix)
      : text_(text), prefix_(prefix) {}

  absl::Status parse(NpyHeader &header) {
    bool haveDescr = false, haveOrder = false, haveShape = false;
    std::string descr;
    bool fortran = false;
    if (!eat('{'))
      return expected("'{'");
    for (;;) {
      if (eat('}'))
        break;
      std::optional<std::string> key = string();
      if (!key)
        return expected("a quoted key or '}'");
      if (!eat(':'))
        return expected("':'");
      if (*key == "descr") {
        if (haveDescr)
          return duplicate(*key);
        haveDescr = true;
        skipSpace();
        if (pos_ < text_.size() && (text_[pos_] == '[' || text_[pos_] == '('))
          return invalid(prefix_,
                         "structured arrays (a list of fields as 'descr') are "
                         "not supported; save each field as its own array");
        std::optional<std::string> value = string();
        if (!value)
          return expected("a quoted dtype after 'descr'");
        descr = *value;
      } else if (*key == "fortran_order") {
        if (haveOrder)
          return duplicate(*key);
        haveOrder = true;
        if (word("True"))
          fortran = true;
        else if (!word("False"))
          return expected("True or False after 'fortran_order'");
      } else if (*key == "shape") {
        if (haveShape)
          return duplicate(*key);
        haveShape = true;
        if (absl::Status s = tuple(header.shape); !s.ok())
          return s;
      } else {
        return invalid(prefix_,
                       absl::StrCat("unknown key '", absl::CHexEscape(*key),
                                    "' in the .npy header (NumPy writes "
                                    "'descr', 'fortran_order' and 'shape')"));
      }
      if (eat('}'))
        break;
      if (!eat(','))
        return expected("',' or '}'");
    }
    skipSpace();
    if (pos_ != text_.size())
      return expected("the end of the header after '}'");
    if (!haveDescr || !haveOrder || !haveShape)
      return invalid(prefix_, absl::StrCat("the .npy header lacks '",
                                           !haveDescr   ? "descr"
                                           : !haveOrder ? "fortran_order"
                                                        : "shape",
                                           "': ", quoteHeader(text_)));
    bool known = false;
    for (const DtypeName &d : kDtypes)
      if (descr == d.descr) {
        header.type = d.type;
        known = true;
      }
    if (!known)
      return invalid(prefix_, refuseDtype(descr));
    if (fortran)
      return invalid(prefix_, "Fortran order is not supported; save with "
                              "np.ascontiguousarray");
    return absl::OkStatus();
  }

private:
  void skipSpace() {
    while (pos_ < text_.size() && (text_[pos_] == ' ' || text_[pos_] == '\t' ||
                                   text_[pos_] == '\n' || text_[pos_] == '\r'))
      ++pos_;
  }
  bool eat(char c) {
    skipSpace();
    if (pos_ < text_.size() && text_[pos_] == c) {
      ++pos_;
      return true;
    }
    return false;
  }
  bool word(std::string_view w) {
    skipSpace();
    if (text_.substr(pos_, w.size()) != w)
      return false;
    size_t end = pos_ + w.size();
    if (end < text_.size() &&
        (std::isalnum(static_cast<unsigned char>(text_[end])) ||
         text_[end] == '_'))
      return false;
    pos_ = end;
    return true;
  }
  /// A string literal in single or double quotes, without escapes.
  std::optional<std::string> string() {
    skipSpace();
    if (pos_ >= text_.size() || (text_[pos_] != '\'' && text_[pos_] != '"'))
      return std::nullopt;
    char quote = text_[pos_];
    size_t end = text_.find(quote, pos_ + 1);
    if (end == std::string_view::npos)
      return std::nullopt;
    std::string value(text_.substr(pos_ + 1, end - pos_ - 1));
    if (value.find('\\') != std::string::npos ||
        value.find('\n') != std::string::npos)
      return std::nullopt;
    pos_ = end + 1;
    return value;
  }
  /// A tuple of non-negative integers: (), (5,), (2, 3), (2, 3,).
  absl::Status tuple(std::vector<int64_t> &shape) {
    if (!eat('('))
      return expected("a tuple after 'shape'");
    bool trailingComma = false;
    while (!eat(')')) {
      skipSpace();
      if (pos_ >= text_.size() || !std::isdigit(uint8_t(text_[pos_])))
        return expected("a non-negative integer or ')' in 'shape'");
      int64_t value = 0;
      while (pos_ < text_.size() && std::isdigit(uint8_t(text_[pos_]))) {
        int digit = text_[pos_++] - '0';
        if (value > (std::numeric_limits<int64_t>::max() - digit) / 10)
          return invalid(prefix_, "a dimension in 'shape' is too large");
        value = value * 10 + digit;
      }
      if (pos_ < text_.size() && text_[pos_] == 'L') // Python 2's longs
        ++pos_;
      shape.push_back(value);
      if (shape.size() > kMaxRank)
        return invalid(prefix_, absl::StrCat("'shape' has more than ", kMaxRank,
                                             " dimensions"));
      trailingComma = eat(',');
      if (!trailingComma) {
        if (!eat(')'))
          return expected("',' or ')' in 'shape'");
        break;
      }
    }
    if (shape.size() == 1 && !trailingComma)
      return invalid(prefix_, "'shape' is not a tuple: a one-element tuple is "
                              "written (N,)");
    return absl::OkStatus();
  }
  absl::Status expected(absl::string_view what) {
    return invalid(prefix_, absl::StrCat("malformed .npy header: expected ",
                                         what, " at character ", pos_, " of ",
                                         quoteHeader(text_)));
  }
  absl::Status duplicate(const std::string &key) {
    return invalid(prefix_,
                   absl::StrCat("the .npy header has '", key, "' twice"));
  }

  std::string_view text_;
  const std::string &prefix_;
  size_t pos_ = 0;
};

/// The data bytes that `shape` of `itemSize`-byte elements takes, or an
/// error when the product overflows.
absl::StatusOr<uint64_t> shapeBytes(const std::vector<int64_t> &shape,
                                    int64_t itemSize,
                                    const std::string &prefix) {
  uint64_t bytes = uint64_t(itemSize);
  bool zero = false;
  for (int64_t d : shape)
    zero |= d == 0;
  if (zero)
    return 0;
  for (int64_t d : shape) {
    if (__builtin_mul_overflow(bytes, uint64_t(d), &bytes) ||
        bytes > uint64_t(std::numeric_limits<int64_t>::max()))
      return invalid(prefix, absl::StrCat("the shape ", npyShapeString(shape),
                                          " is too large to be real"));
  }
  return bytes;
}

/// Parses the magic, version and header dict at the start of `prefix` (the
/// whole file or at least its first 12 + kMaxHeaderBytes bytes).
absl::StatusOr<NpyHeader> parseHeader(std::string_view prefix,
                                      const std::string &errorPrefix) {
  if (prefix.substr(0, kNpyMagic.size()) != kNpyMagic.substr(0, prefix.size()))
    return invalid(errorPrefix, "not a NumPy .npy file (it does not start "
                                "with \\x93NUMPY)");
  if (prefix.size() < 10)
    return invalid(errorPrefix,
                   absl::StrCat("truncated: ", prefix.size(),
                                " bytes are too short for a .npy header"));
  int major = u8(prefix)[6], minor = u8(prefix)[7];
  if ((major != 1 && major != 2 && major != 3) || minor != 0)
    return invalid(errorPrefix,
                   absl::StrCat("NumPy format version ", major, ".", minor,
                                " is not supported (1.0, 2.0 and 3.0 are)"));
  uint64_t headerStart = major == 1 ? 10 : 12;
  if (prefix.size() < headerStart)
    return invalid(errorPrefix, "truncated in the .npy header");
  uint64_t headerLength =
      major == 1 ? le16(u8(prefix, 8)) : le32(u8(prefix, 8));
  if (headerLength > kMaxHeaderBytes)
    return invalid(errorPrefix,
                   absl::StrCat("the .npy header claims ", headerLength,
                                " bytes, more than the limit of ",
                                kMaxHeaderBytes, "; the file is corrupt"));
  if (headerStart + headerLength > prefix.size())
    return invalid(errorPrefix,
                   absl::StrCat("truncated: the .npy header needs ",
                                headerStart + headerLength,
                                " bytes, the file has ", prefix.size()));
  NpyHeader header;
  HeaderParser parser(prefix.substr(headerStart, headerLength), errorPrefix);
  if (absl::Status s = parser.parse(header); !s.ok())
    return s;
  header.dataOffset = headerStart + headerLength;
  NpyArray probe;
  probe.type = header.type;
  absl::StatusOr<uint64_t> bytes =
      shapeBytes(header.shape, probe.itemSize(), errorPrefix);
  if (!bytes.ok())
    return bytes.status();
  header.dataBytes = *bytes;
  return header;
}

/// The data size the header implies must be what the file holds.
absl::Status checkDataSize(const NpyHeader &header, uint64_t available,
                           const std::string &errorPrefix) {
  if (header.dataBytes == available)
    return absl::OkStatus();
  return invalid(errorPrefix, absl::StrCat("the header says ", header.dataBytes,
                                           " bytes of data (shape ",
                                           npyShapeString(header.shape), " of ",
                                           npyTypeName(header.type),
                                           "), the file has ", available));
}

absl::StatusOr<NpyArray> parseNpyWithPrefix(std::string_view bytes,
                                            const std::string &errorPrefix) {
  absl::StatusOr<NpyHeader> header = parseHeader(bytes, errorPrefix);
  if (!header.ok())
    return header.status();
  if (absl::Status s = checkDataSize(*header, bytes.size() - header->dataOffset,
                                     errorPrefix);
      !s.ok())
    return s;
  NpyArray array;
  array.type = header->type;
  array.shape = std::move(header->shape);
  const uint8_t *data = u8(bytes, header->dataOffset);
  array.bytes.assign(data, data + header->dataBytes);
  return array;
}

/// Closes a file descriptor on scope exit.
struct FdCloser {
  int fd;
  ~FdCloser() { ::close(fd); }
};

/// Reads exactly `n` bytes at `offset`.
absl::Status readAt(int fd, uint64_t offset, uint8_t *out, uint64_t n,
                    const std::string &path) {
  uint64_t done = 0;
  while (done < n) {
    size_t chunk = size_t(std::min<uint64_t>(n - done, 1u << 30));
    ssize_t got = ::pread(fd, out + done, chunk, off_t(offset + done));
    if (got < 0 && errno == EINTR)
      continue;
    if (got <= 0)
      return absl::UnavailableError(absl::StrCat(
          path, ": error: cannot read: ",
          got == 0 ? "file shrank while reading" : std::strerror(errno)));
    done += uint64_t(got);
  }
  return absl::OkStatus();
}

// ZIP records (APPNOTE.TXT): signatures and fixed sizes.
constexpr uint32_t kLocalHeaderSig = 0x04034b50;
constexpr uint32_t kCentralHeaderSig = 0x02014b50;
constexpr uint32_t kEndOfCentralDirSig = 0x06054b50;
constexpr uint32_t kZip64LocatorSig = 0x07064b50;
constexpr uint64_t kLocalHeaderSize = 30;
constexpr uint64_t kCentralHeaderSize = 46;
constexpr uint64_t kEndOfCentralDirSize = 22;

/// An entry of the central directory, with where its data lie.
struct ZipEntry {
  std::string name;
  uint16_t method = 0;
  uint32_t crc = 0;
  uint64_t compressedSize = 0;
  uint64_t size = 0;
  uint64_t localHeader = 0;
  uint64_t dataStart = 0;
};

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

/// Inflates a raw deflate stream that must produce exactly `size` bytes.
absl::StatusOr<std::vector<uint8_t>> inflateEntry(std::string_view compressed,
                                                  uint64_t size,
                                                  const std::string &prefix) {
  z_stream z;
  std::memset(&z, 0, sizeof z);
  if (inflateInit2(&z, -MAX_WBITS) != Z_OK)
    return absl::ResourceExhaustedError(
        absl::StrCat(prefix, "cannot start zlib's inflate"));
  std::vector<uint8_t> out;
  // The compressed size is below 2^32 (ZIP64 is refused), so it fits uInt.
  z.next_in = const_cast<Bytef *>(u8(compressed));
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

/// Reads the central directory of the archive `zip`.
absl::StatusOr<std::vector<ZipEntry>>
readCentralDirectory(std::string_view zip, const std::string &path) {
  std::string prefix = absl::StrCat(path, ": error: ");
  // The end record is the last 22 bytes plus a comment of up to 65535.
  std::optional<uint64_t> end;
  if (zip.size() >= kEndOfCentralDirSize) {
    uint64_t last = zip.size() - kEndOfCentralDirSize;
    uint64_t first = last > 0xFFFF ? last - 0xFFFF : 0;
    for (uint64_t pos = last + 1; pos-- > first;) {
      if (le32(u8(zip, pos)) == kEndOfCentralDirSig &&
          pos + kEndOfCentralDirSize + le16(u8(zip, pos + 20)) == zip.size()) {
        end = pos;
        break;
      }
    }
  }
  if (!end) {
    if (zip.substr(0, kNpyMagic.size()) == kNpyMagic)
      return invalid(prefix,
                     "this is a single .npy array, not an .npz archive; save "
                     "inputs and labels together with np.savez(file, "
                     "x_train=..., y_train=..., x_test=..., y_test=...)");
    return invalid(prefix, "not a ZIP archive (no end of central directory "
                           "record); expected an .npz file from np.savez");
  }
  const uint8_t *e = u8(zip, *end);
  uint16_t disk = le16(e + 4), cdDisk = le16(e + 6);
  uint16_t diskEntries = le16(e + 8), entries = le16(e + 10);
  uint32_t cdSize = le32(e + 12), cdOffset = le32(e + 16);
  if ((*end >= 20 && le32(u8(zip, *end - 20)) == kZip64LocatorSig) ||
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
        le32(u8(zip, pos)) != kCentralHeaderSig)
      return invalid(prefix, absl::StrCat("corrupt archive: entry ", k + 1,
                                          " of ", entries,
                                          " of the central directory is "
                                          "missing or damaged"));
    const uint8_t *c = u8(zip, pos);
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
    if (h + kLocalHeaderSize > cdOffset || le32(u8(zip, h)) != kLocalHeaderSig)
      return invalid(
          entryPrefix,
          absl::StrCat("corrupt archive: no local header at offset ", h));
    uint16_t nameLength = le16(u8(zip, h + 26)),
             extraLength = le16(u8(zip, h + 28));
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

int64_t integerAt(const NpyArray &a, int64_t i) {
  const uint8_t *p = a.bytes.data() + i * a.itemSize();
  switch (a.type) {
  case NpyArray::Type::U8:
    return *p;
  case NpyArray::Type::I32:
    return int32_t(le32(p));
  case NpyArray::Type::I64:
    return int64_t(le64(p));
  default:
    return 0;
  }
}

} // namespace

int64_t NpyArray::count() const {
  // A zero anywhere makes the product zero even when the other dimensions
  // would overflow.
  if (std::find(shape.begin(), shape.end(), 0) != shape.end())
    return 0;
  int64_t n = 1;
  for (int64_t d : shape)
    n *= d;
  return n;
}

int64_t NpyArray::itemSize() const {
  switch (type) {
  case Type::U8:
    return 1;
  case Type::I32:
  case Type::F32:
    return 4;
  case Type::I64:
  case Type::F64:
    return 8;
  }
  return 1;
}

double NpyArray::at(int64_t i) const {
  const uint8_t *p = bytes.data() + i * itemSize();
  switch (type) {
  case Type::U8:
  case Type::I32:
  case Type::I64:
    return double(integerAt(*this, i));
  case Type::F32: {
    uint32_t bits = le32(p);
    float f;
    std::memcpy(&f, &bits, 4);
    return f;
  }
  case Type::F64: {
    uint64_t bits = le64(p);
    double d;
    std::memcpy(&d, &bits, 8);
    return d;
  }
  }
  return 0;
}

const char *npyTypeName(NpyArray::Type type) {
  switch (type) {
  case NpyArray::Type::U8:
    return "uint8";
  case NpyArray::Type::I32:
    return "int32";
  case NpyArray::Type::I64:
    return "int64";
  case NpyArray::Type::F32:
    return "float32";
  case NpyArray::Type::F64:
    return "float64";
  }
  return "?";
}

std::string npyShapeString(const std::vector<int64_t> &shape) {
  if (shape.size() == 1)
    return absl::StrCat("(", shape[0], ",)");
  return absl::StrCat("(", absl::StrJoin(shape, ", "), ")");
}

absl::StatusOr<NpyArray> parseNpy(std::string_view bytes,
                                  const std::string &name) {
  return parseNpyWithPrefix(bytes, absl::StrCat(name, ": error: "));
}

absl::StatusOr<NpyArray> readNpy(const std::string &path) {
  std::string prefix = absl::StrCat(path, ": error: ");
  int fd = ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0)
    return absl::NotFoundError(
        absl::StrCat(prefix, "cannot open NumPy file: ", std::strerror(errno)));
  FdCloser closer{fd};
  struct stat st;
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode))
    return invalid(prefix, absl::StrCat("NumPy file ", fileKind(st.st_mode),
                                        ", expected a regular file"));
  if (st.st_size > kMaxFileBytes)
    return invalid(prefix, absl::StrCat("NumPy file of ", st.st_size,
                                        " bytes is larger than the limit of ",
                                        kMaxFileBytes));
  uint64_t size = uint64_t(st.st_size);
  std::string head(size_t(std::min<uint64_t>(size, 12 + kMaxHeaderBytes)),
                   '\0');
  if (absl::Status s = readAt(fd, 0, reinterpret_cast<uint8_t *>(head.data()),
                              head.size(), path);
      !s.ok())
    return s;
  absl::StatusOr<NpyHeader> header = parseHeader(head, prefix);
  if (!header.ok())
    return header.status();
  if (absl::Status s =
          checkDataSize(*header, size - header->dataOffset, prefix);
      !s.ok())
    return s;
  NpyArray array;
  array.type = header->type;
  array.shape = std::move(header->shape);
  array.bytes.resize(header->dataBytes);
  if (absl::Status s = readAt(fd, header->dataOffset, array.bytes.data(),
                              header->dataBytes, path);
      !s.ok())
    return s;
  return array;
}

absl::StatusOr<std::map<std::string, NpyArray>>
readNpz(const std::string &path) {
  absl::StatusOr<std::string> file =
      readRegularFile(path, "NumPy archive", kMaxFileBytes);
  if (!file.ok())
    return file.status();
  std::string_view zip = *file;
  absl::StatusOr<std::vector<ZipEntry>> entries =
      readCentralDirectory(zip, path);
  if (!entries.ok())
    return entries.status();
  std::map<std::string, NpyArray> arrays;
  for (const ZipEntry &entry : *entries) {
    std::string prefix = absl::StrCat(path, ": error: entry '",
                                      absl::CHexEscape(entry.name), "': ");
    constexpr std::string_view kSuffix = ".npy";
    if (entry.name.size() < kSuffix.size() ||
        entry.name.compare(entry.name.size() - kSuffix.size(), kSuffix.size(),
                           kSuffix) != 0)
      return invalid(prefix, "is not a .npy array; an .npz archive holds "
                             "only NAME.npy entries");
    std::string key = entry.name.substr(0, entry.name.size() - kSuffix.size());
    if (arrays.count(key))
      return invalid(prefix, "appears twice in the archive");
    std::string_view compressed =
        zip.substr(entry.dataStart, entry.compressedSize);
    absl::StatusOr<NpyArray> array = absl::UnknownError("not read");
    // The entry's bytes against the CRC-32 the archive gives them.
    auto checkCrc = [&](const uint8_t *bytes, size_t size) -> absl::Status {
      uint32_t crc = uint32_t(crc32_z(0, bytes, size));
      if (crc == entry.crc)
        return absl::OkStatus();
      return invalid(prefix, absl::StrCat("CRC-32 mismatch: the archive says ",
                                          absl::Hex(entry.crc, absl::kZeroPad8),
                                          ", the data have ",
                                          absl::Hex(crc, absl::kZeroPad8)));
    };
    if (entry.method == 0) {
      if (absl::Status s = checkCrc(u8(compressed), compressed.size()); !s.ok())
        return s;
      array = parseNpyWithPrefix(compressed, prefix);
    } else {
      absl::StatusOr<std::vector<uint8_t>> data =
          inflateEntry(compressed, entry.size, prefix);
      if (!data.ok())
        return data.status();
      if (absl::Status s = checkCrc(data->data(), data->size()); !s.ok())
        return s;
      // Parse the header in place and keep the buffer for the data.
      std::string_view view(reinterpret_cast<const char *>(data->data()),
                            data->size());
      absl::StatusOr<NpyHeader> header = parseHeader(view, prefix);
      if (!header.ok())
        return header.status();
      if (absl::Status s =
              checkDataSize(*header, data->size() - header->dataOffset, prefix);
          !s.ok())
        return s;
      NpyArray a;
      a.type = header->type;
      a.shape = std::move(header->shape);
      data->erase(data->begin(), data->begin() + header->dataOffset);
      a.bytes = std::move(*data);
      array = std::move(a);
    }
    if (!array.ok())
      return array.status();
    arrays.emplace(std::move(key), std::move(*array));
  }
  return arrays;
}

absl::StatusOr<Dataset> datasetFromArrays(const NpyArray &x, const NpyArray &y,
                                          const std::string &where,
                                          bool valueTargets,
                                          const std::string &xName,
                                          const std::string &yName) {
  std::string prefix = absl::StrCat(where, ": error: ");
  const char *layouts = "[N, H, W, C] (images), [N, H, W] (one channel) or "
                        "[N, F] (one row of F features per example)";
  if (x.shape.empty())
    return invalid(prefix,
                   absl::StrCat(xName, " is a scalar; expected ", layouts));
  if (x.shape.size() == 1)
    return invalid(prefix,
                   absl::StrCat(xName, " has shape ", npyShapeString(x.shape),
                                ", one value per example; expected ", layouts,
                                " (one feature: ", xName, ".reshape(-1, 1))"));
  if (x.shape.size() > 4)
    return invalid(prefix,
                   absl::StrCat(xName, " has shape ", npyShapeString(x.shape),
                                "; expected ", layouts));
  Dataset d;
  int64_t n = x.shape[0];
  if (x.shape.size() == 2) {
    d.height = d.width = 1;
    d.channels = x.shape[1];
  } else {
    d.height = x.shape[1];
    d.width = x.shape[2];
    d.channels = x.shape.size() == 4 ? x.shape[3] : 1;
  }
  if (d.height == 0 || d.width == 0 || d.channels == 0)
    return invalid(prefix,
                   absl::StrCat(xName, " has shape ", npyShapeString(x.shape),
                                ": its examples hold no values"));
  // Real data bound the example size, but not when there are no examples.
  int64_t exampleSize = 0;
  if (__builtin_mul_overflow(d.height, d.width, &exampleSize) ||
      __builtin_mul_overflow(exampleSize, d.channels, &exampleSize) ||
      exampleSize > kMaxExampleValues)
    return invalid(prefix,
                   absl::StrCat(xName, " has shape ", npyShapeString(x.shape),
                                ": examples of more than ", kMaxExampleValues,
                                " values are not supported"));

  if (y.shape.empty())
    return invalid(prefix,
                   absl::StrCat(yName, " is a scalar; expected one ",
                                valueTargets ? "row of targets" : "label",
                                " per example"));
  if (y.shape[0] != n)
    return invalid(prefix, absl::StrCat(xName, " has ", n, " examples, ", yName,
                                        " has ", y.shape[0]));
  if (!valueTargets) {
    if (y.shape.size() > 2 || (y.shape.size() == 2 && y.shape[1] != 1))
      return invalid(
          prefix,
          absl::StrCat(
              yName, " has shape ", npyShapeString(y.shape),
              "; class labels are [N] or [N, 1] (one-hot labels: ", yName,
              ".argmax(axis=1); for regression set values: true in "
              "the loss)"));
    if (!y.isInteger())
      return invalid(prefix,
                     absl::StrCat(yName, " holds floats; class labels must be "
                                         "integers (for regression set values: "
                                         "true in the loss)"));
    d.labels.resize(size_t(n));
    for (int64_t i = 0; i < n; ++i) {
      int64_t v = integerAt(y, i);
      if (v < 0 || v > std::numeric_limits<int32_t>::max())
        return invalid(prefix,
                       absl::StrCat(yName, "[", i, "] is ", v,
                                    v < 0 ? "; class labels must be >= 0"
                                          : "; class labels must be below "
                                            "2^31"));
      d.labels[size_t(i)] = int32_t(v);
    }
  } else {
    if (y.shape.size() > 2)
      return invalid(prefix,
                     absl::StrCat(yName, " has shape ", npyShapeString(y.shape),
                                  "; value targets are [N] or [N, K]"));
    d.targetWidth = y.shape.size() == 2 ? y.shape[1] : 1;
    if (d.targetWidth == 0 || d.targetWidth > kMaxExampleValues)
      return invalid(prefix,
                     absl::StrCat(yName, " has shape ", npyShapeString(y.shape),
                                  d.targetWidth == 0
                                      ? ": no targets per example"
                                      : ": too many targets per example"));
    d.labels.assign(size_t(n), 0);
    d.targets.resize(size_t(y.count()));
    for (int64_t i = 0; i < y.count(); ++i)
      d.targets[size_t(i)] = float(y.at(i));
  }

  if (x.type == NpyArray::Type::U8) {
    d.pixels = x.bytes;
  } else {
    d.images.resize(size_t(x.count()));
    for (int64_t i = 0; i < x.count(); ++i)
      d.images[size_t(i)] = float(x.at(i));
  }
  return d;
}

absl::StatusOr<DataSplits> loadNumpy(const std::string &path,
                                     bool valueTargets) {
  absl::StatusOr<std::map<std::string, NpyArray>> arrays = readNpz(path);
  if (!arrays.ok())
    return arrays.status();
  std::string prefix = absl::StrCat(path, ": error: ");
  auto has = [&](const char *key) { return arrays->count(key) != 0; };
  std::vector<std::string> keys;
  for (const auto &[key, array] : *arrays)
    keys.push_back(absl::StrCat("'", absl::CHexEscape(key), "'"));
  std::string listing =
      keys.empty() ? "the archive is empty"
                   : absl::StrCat("the file has ", absl::StrJoin(keys, ", "));
  const char *expected = "expected arrays x_train and y_train (and x_test and "
                         "y_test for a test set) or x and y";
  std::string xTrain = "x_train", yTrain = "y_train";
  if (!has("x_train") && !has("y_train")) {
    xTrain = "x";
    yTrain = "y";
  }
  if (!has(xTrain.c_str()) || !has(yTrain.c_str()))
    return invalid(prefix, absl::StrCat(expected, "; ", listing));
  if (has("x_test") != has("y_test"))
    return invalid(prefix, absl::StrCat("the file has ",
                                        has("x_test") ? "x_test but no y_test"
                                                      : "y_test but no x_test",
                                        "; a test set needs both; ", listing));
  DataSplits splits;
  absl::StatusOr<Dataset> train =
      datasetFromArrays(arrays->at(xTrain), arrays->at(yTrain), path,
                        valueTargets, xTrain, yTrain);
  if (!train.ok())
    return train.status();
  splits.train = std::move(*train);
  if (has("x_test")) {
    absl::StatusOr<Dataset> test =
        datasetFromArrays(arrays->at("x_test"), arrays->at("y_test"), path,
                          valueTargets, "x_test", "y_test");
    if (!test.ok())
      return test.status();
    const Dataset &a = splits.train, &b = *test;
    if (a.height != b.height || a.width != b.width || a.channels != b.channels)
      return invalid(prefix, absl::StrCat("x_test's examples are ", b.height,
                                          "x", b.width, "x", b.channels, ", ",
                                          xTrain, "'s are ", a.height, "x",
                                          a.width, "x", a.channels));
    if (arrays->at(xTrain).type != arrays->at("x_test").type &&
        (arrays->at(xTrain).type == NpyArray::Type::U8 ||
         arrays->at("x_test").type == NpyArray::Type::U8))
      return invalid(
          prefix, absl::StrCat(
                      xTrain, " is ", npyTypeName(arrays->at(xTrain).type),
                      " and x_test is ", npyTypeName(arrays->at("x_test").type),
                      "; uint8 pixels are scaled to [0, 1] and other types "
                      "are used as they are, so save both with one dtype"));
    if (a.targetWidth != b.targetWidth)
      return invalid(prefix, absl::StrCat("y_test has ", b.targetWidth,
                                          " targets per example, ", yTrain,
                                          " has ", a.targetWidth));
    splits.test = std::move(*test);
  } else {
    splits.test = emptyLike(splits.train);
  }
  splits.validation = emptyLike(splits.train);
  return splits;
}

} // namespace gradc
