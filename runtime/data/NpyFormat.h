//===- NpyFormat.h - NumPy .npy arrays: parse, read, write ------*- C++ -*-===//
//
// One NumPy array in memory (NpyArray) and the .npy format that np.save
// writes (format versions 1.0 to 3.0): parsing it from bytes or a file,
// reading its elements, and writing an array back as a .npy file.
//
// Only little-endian C-order arrays of uint8, int32, int64, float32 and
// float64 are accepted; anything else is refused with one line naming the
// file and what to do instead. Every size that a header claims is checked
// against the bytes that are really there before anything is allocated, so
// a lying header costs nothing.
//
//===----------------------------------------------------------------------===//

#ifndef GRADC_RUNTIME_DATA_NPYFORMAT_H
#define GRADC_RUNTIME_DATA_NPYFORMAT_H

#include "absl/status/status.h"
#include "absl/status/statusor.h"

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace gradc {

/// The first bytes of every .npy file.
constexpr std::string_view kNpyMagic("\x93NUMPY", 6);
/// NumPy files (.npy, .npz) above this are refused before reading (16 GiB:
/// 4G floats).
constexpr int64_t kMaxNumpyFileBytes = int64_t(16) << 30;

/// One NumPy array: its element type, its shape and its data, little-endian
/// in C (row-major) order.
struct NpyArray {
  enum class Type { U8, I32, I64, F32, F64 };
  Type type = Type::U8;
  /// Empty for a scalar (one element).
  std::vector<int64_t> shape;
  std::vector<uint8_t> bytes;

  /// The number of elements: the product of the shape (1 for a scalar).
  int64_t count() const;
  /// Bytes per element: 1, 4 or 8.
  int64_t itemSize() const;
  bool isInteger() const {
    return type == Type::U8 || type == Type::I32 || type == Type::I64;
  }
  /// Element `i` (C order) as a double; int64 values beyond 2^53 round.
  double at(int64_t i) const;
  /// Element `i` (C order) of an integer array, exactly; 0 for floats.
  int64_t integerAt(int64_t i) const;
};

/// NumPy's name of a type: "uint8", "int32", "int64", "float32", "float64".
const char *npyTypeName(NpyArray::Type type);
/// "(2, 28, 28)", "(5,)", "()": a shape as Python prints it.
std::string npyShapeString(const std::vector<int64_t> &shape);

/// Parses the contents of a .npy file; `name` (a path) starts every error.
absl::StatusOr<NpyArray> parseNpy(std::string_view bytes,
                                  const std::string &name);

/// parseNpy with every error starting with `errorPrefix` as it is (e.g.
/// "a.npz: error: entry 'x.npy': ").
absl::StatusOr<NpyArray> parseNpyWithPrefix(std::string_view bytes,
                                            const std::string &errorPrefix);

/// parseNpyWithPrefix on a buffer that the array takes over for its data,
/// without a copy (an entry inflated from an archive).
absl::StatusOr<NpyArray> parseNpyBuffer(std::vector<uint8_t> buffer,
                                        const std::string &errorPrefix);

/// Reads a .npy file (a regular file of at most kMaxNumpyFileBytes). The
/// data are read into the array directly, once the header has been checked
/// against the file's size.
absl::StatusOr<NpyArray> readNpy(const std::string &path);

/// The bytes of a .npy file (format 1.0, as np.save writes it: the header
/// dict padded with spaces to a multiple of 64 bytes) holding `array`,
/// whose bytes must match its shape (see writeNpy).
std::string encodeNpy(const NpyArray &array);

/// Writes `array` to `path` as a .npy file that np.load and readNpy read
/// back, atomically (support/Files.h); errors name the path and `what`.
/// An array whose bytes do not match its shape and type, or with more than
/// 64 dimensions, is refused.
absl::Status writeNpy(const std::string &path, const NpyArray &array,
                      const char *what = "NumPy file");

} // namespace gradc

#endif // GRADC_RUNTIME_DATA_NPYFORMAT_H
