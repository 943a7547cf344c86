//===- LittleEndian.h - integers read from little-endian bytes --*- C++ -*-===//
//
// Reads 16-, 32- and 64-bit unsigned integers stored least significant byte
// first, as .npy data and ZIP records store them, whatever the host's byte
// order. The caller checks that the bytes are there.
//
//===----------------------------------------------------------------------===//

#ifndef GRADC_RUNTIME_DATA_LITTLEENDIAN_H
#define GRADC_RUNTIME_DATA_LITTLEENDIAN_H

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace gradc {

inline uint16_t le16(const uint8_t *p) { return uint16_t(p[0] | (p[1] << 8)); }
inline uint32_t le32(const uint8_t *p) {
  return uint32_t(p[0]) | (uint32_t(p[1]) << 8) | (uint32_t(p[2]) << 16) |
         (uint32_t(p[3]) << 24);
}
inline uint64_t le64(const uint8_t *p) {
  return uint64_t(le32(p)) | (uint64_t(le32(p + 4)) << 32);
}

/// The bytes of `s` from `offset` on, as unsigned bytes.
inline const uint8_t *bytesAt(std::string_view s, size_t offset = 0) {
  return reinterpret_cast<const uint8_t *>(s.data()) + offset;
}

} // namespace gradc

#endif // GRADC_RUNTIME_DATA_LITTLEENDIAN_H
