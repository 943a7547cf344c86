//===- NpyFormat.cpp - NumPy .npy arrays: parse, read, access, write ------===//
//
// The .npy header (magic, version, a Python dict literal) is parsed by a
// small strict parser that knows the three keys NumPy writes; the data
// size it implies is computed with overflow checks and compared with the
// bytes that follow before any allocation. A file is read header first,
// then its data straight into the array. The writer emits format 1.0 as
// np.save does.
//
//===----------------------------------------------------------------------===//

#include "runtime/data/NpyFormat.h"

#include "runtime/data/LittleEndian.h"
#include "support/Files.h"

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

#include <algorithm>
#include <cctype>
#include <cstring>
#include <limits>
#include <optional>

namespace gradc {
namespace {

// A .npy header is a few hundred bytes; a longer one is corrupt.
constexpr uint64_t kMaxHeaderBytes = 1 << 16;
// NumPy 2 allows 64 dimensions.
constexpr size_t kMaxRank = 64;

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
  int major = bytesAt(prefix)[6], minor = bytesAt(prefix)[7];
  if ((major != 1 && major != 2 && major != 3) || minor != 0)
    return invalid(errorPrefix,
                   absl::StrCat("NumPy format version ", major, ".", minor,
                                " is not supported (1.0, 2.0 and 3.0 are)"));
  uint64_t headerStart = major == 1 ? 10 : 12;
  if (prefix.size() < headerStart)
    return invalid(errorPrefix, "truncated in the .npy header");
  uint64_t headerLength =
      major == 1 ? le16(bytesAt(prefix, 8)) : le32(bytesAt(prefix, 8));
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

/// The header of the whole .npy file `bytes`, checked against their size.
absl::StatusOr<NpyHeader> parseCheckedHeader(std::string_view bytes,
                                             const std::string &errorPrefix) {
  absl::StatusOr<NpyHeader> header = parseHeader(bytes, errorPrefix);
  if (!header.ok())
    return header.status();
  if (absl::Status s = checkDataSize(*header, bytes.size() - header->dataOffset,
                                     errorPrefix);
      !s.ok())
    return s;
  return header;
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
    return double(integerAt(i));
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

int64_t NpyArray::integerAt(int64_t i) const {
  const uint8_t *p = bytes.data() + i * itemSize();
  switch (type) {
  case Type::U8:
    return *p;
  case Type::I32:
    return int32_t(le32(p));
  case Type::I64:
    return int64_t(le64(p));
  default:
    return 0;
  }
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

absl::StatusOr<NpyArray> parseNpyWithPrefix(std::string_view bytes,
                                            const std::string &errorPrefix) {
  absl::StatusOr<NpyHeader> header = parseCheckedHeader(bytes, errorPrefix);
  if (!header.ok())
    return header.status();
  NpyArray array;
  array.type = header->type;
  array.shape = std::move(header->shape);
  const uint8_t *data = bytesAt(bytes, header->dataOffset);
  array.bytes.assign(data, data + header->dataBytes);
  return array;
}

absl::StatusOr<NpyArray> parseNpyBuffer(std::vector<uint8_t> buffer,
                                        const std::string &errorPrefix) {
  // Parse the header in place and keep the buffer for the data.
  absl::StatusOr<NpyHeader> header = parseCheckedHeader(
      std::string_view(reinterpret_cast<const char *>(buffer.data()),
                       buffer.size()),
      errorPrefix);
  if (!header.ok())
    return header.status();
  NpyArray array;
  array.type = header->type;
  array.shape = std::move(header->shape);
  buffer.erase(buffer.begin(), buffer.begin() + header->dataOffset);
  array.bytes = std::move(buffer);
  return array;
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
  if (st.st_size > kMaxNumpyFileBytes)
    return invalid(prefix, absl::StrCat("NumPy file of ", st.st_size,
                                        " bytes is larger than the limit of ",
                                        kMaxNumpyFileBytes));
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

std::string encodeNpy(const NpyArray &array) {
  // Format 1.0: magic, version, the header's length (2 bytes), the dict
  // padded with spaces and ended by a newline so that the data start at a
  // multiple of 64 bytes, then the little-endian data.
  const char *descr = "";
  for (const DtypeName &d : kDtypes)
    if (d.type == array.type)
      descr = d.descr;
  std::string header =
      absl::StrCat("{'descr': '", descr, "', 'fortran_order': False, 'shape': ",
                   npyShapeString(array.shape), ", }");
  header.append(63 - (10 + header.size()) % 64, ' ');
  header += '\n';
  std::string bytes(kNpyMagic);
  bytes += '\x01';
  bytes += '\x00';
  bytes += char(header.size() & 0xff);
  bytes += char(header.size() >> 8);
  bytes += header;
  bytes.append(reinterpret_cast<const char *>(array.bytes.data()),
               array.bytes.size());
  return bytes;
}

absl::Status writeNpy(const std::string &path, const NpyArray &array,
                      const char *what) {
  std::string prefix = absl::StrCat(path, ": error: cannot write ", what, ": ");
  if (array.shape.size() > kMaxRank)
    return invalid(prefix, absl::StrCat("the array has ", array.shape.size(),
                                        " dimensions, more than ", kMaxRank));
  absl::StatusOr<uint64_t> bytes =
      shapeBytes(array.shape, array.itemSize(), prefix);
  if (!bytes.ok())
    return bytes.status();
  if (*bytes != array.bytes.size())
    return invalid(
        prefix, absl::StrCat("the shape ", npyShapeString(array.shape), " of ",
                             npyTypeName(array.type), " takes ", *bytes,
                             " bytes, the array holds ", array.bytes.size()));
  return writeFileAtomically(path, encodeNpy(array), what);
}

} // namespace gradc
