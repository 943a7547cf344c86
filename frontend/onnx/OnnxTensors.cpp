//===- OnnxTensors.cpp - the values of ONNX tensors -----------------------===//
//
// The one job of this file: a TensorProto's values, from its typed field,
// its raw data or its external data, checked against its type and dims.
// External data is read only from regular files inside the model's
// directory (no absolute path, no "..", no symlink out), as ONNX's
// security guidance asks.
//
//===----------------------------------------------------------------------===//

#include "frontend/ModelChecker.h"
#include "frontend/OnnxImporter.h"
#include "frontend/onnx/OnnxImport.h"
#include "support/Files.h"

#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>

namespace gradc::onnximport {

std::optional<int64_t> OnnxImport::elementCount(const onnx::TensorProto &t,
                                                const std::string &what) {
  int64_t n = 1;
  for (int64_t d : t.dims()) {
    if (d < 0 || (d > 0 && n > kMaxElements / d)) {
      error(absl::StrCat(what, ": dims [", absl::StrJoin(t.dims(), ", "),
                         "] are negative or above ", kMaxElements,
                         " elements"));
      return std::nullopt;
    }
    n *= d;
  }
  return n;
}

/// The path of external data at `location`: only inside the model's
/// directory (no absolute path, no "..", no symlink out), as ONNX's security
/// guidance asks.
std::optional<std::string> OnnxImport::externalPath(const std::string &location,
                                                    const std::string &what) {
  if (location.empty()) {
    error(absl::StrCat(what, ": external data without a location"));
    return std::nullopt;
  }
  bool escapes = location[0] == '/';
  for (absl::string_view part : absl::StrSplit(location, '/'))
    escapes |= part == "..";
  char realDir[PATH_MAX], realFile[PATH_MAX];
  std::string full = absl::StrCat(dir, "/", location);
  if (!escapes && realpath(dir.c_str(), realDir) &&
      realpath(full.c_str(), realFile)) {
    std::string prefix = absl::StrCat(realDir, "/");
    escapes = std::strncmp(realFile, prefix.c_str(), prefix.size()) != 0;
  }
  if (escapes) {
    error(absl::StrCat(what, ": external data '", location,
                       "' is outside the model's directory (only files "
                       "inside it are read)"));
    return std::nullopt;
  }
  return full;
}

/// The bytes of an external tensor: from a regular file inside the model's
/// directory, its offset and length inside the file and equal to what the
/// dims need.
std::optional<std::string> OnnxImport::externalBytes(const onnx::TensorProto &t,
                                                     const std::string &what,
                                                     int64_t bytes) {
  std::string location;
  int64_t offset = 0, length = -1;
  for (const auto &kv : t.external_data()) {
    auto number = [&](int64_t &v) {
      char *end = nullptr;
      errno = 0;
      long long x = std::strtoll(kv.value().c_str(), &end, 10);
      if (kv.value().empty() || *end || errno || x < 0)
        return false;
      v = x;
      return true;
    };
    if (kv.key() == "location")
      location = kv.value();
    else if ((kv.key() == "offset" && !number(offset)) ||
             (kv.key() == "length" && !number(length))) {
      error(absl::StrCat(what, ": external data ", kv.key(), " '", kv.value(),
                         "' is not a byte count"));
      return std::nullopt;
    }
  }
  auto full = externalPath(location, what);
  if (!full)
    return std::nullopt;
  auto data = readRegularFile(*full, "external data", kMaxOnnxFileBytes);
  if (!data.ok()) {
    error(absl::StrCat(what, ": ", data.status().message()));
    return std::nullopt;
  }
  if (length < 0)
    length = int64_t(data->size()) - std::min<int64_t>(offset, data->size());
  if (offset > int64_t(data->size()) ||
      length > int64_t(data->size()) - offset || length != bytes) {
    error(absl::StrCat(what, ": external data '", location, "' at offset ",
                       offset, " length ", length, " does not hold the ", bytes,
                       " bytes its dims need (the file has ", data->size(),
                       ")"));
    return std::nullopt;
  }
  return data->substr(offset, length);
}

template <typename T, typename Field>
std::optional<std::vector<T>>
OnnxImport::values(const onnx::TensorProto &t, const std::string &what,
                   onnx::TensorProto::DataType type, const Field &field) {
  if (t.data_type() != type) {
    error(absl::StrCat(what, ": a tensor of type ",
                       onnx::TensorProto::DataType_Name(
                           onnx::TensorProto::DataType(t.data_type())),
                       ", expected ", onnx::TensorProto::DataType_Name(type)));
    return std::nullopt;
  }
  auto n = elementCount(t, what);
  if (!n)
    return std::nullopt;
  int64_t bytes = *n * int64_t(sizeof(T));
  std::optional<std::string> raw;
  if (t.data_location() == onnx::TensorProto::EXTERNAL) {
    if (!(raw = externalBytes(t, what, bytes)))
      return std::nullopt;
  } else if (t.has_raw_data()) {
    raw = t.raw_data();
  }
  std::vector<T> v;
  if (raw) {
    if (int64_t(raw->size()) != bytes) {
      error(absl::StrCat(what, ": ", raw->size(),
                         " bytes of data, its dims need ", bytes));
      return std::nullopt;
    }
    v.resize(*n);
    std::memcpy(v.data(), raw->data(), raw->size());
    return v;
  }
  if (int64_t(field.size()) != *n) {
    error(
        absl::StrCat(what, ": ", field.size(), " values, its dims need ", *n));
    return std::nullopt;
  }
  v.assign(field.begin(), field.end());
  return v;
}

std::optional<std::vector<float>> OnnxImport::floats(const onnx::TensorProto &t,
                                                     const std::string &what) {
  return values<float>(t, what, onnx::TensorProto::FLOAT, t.float_data());
}

std::optional<std::vector<int64_t>>
OnnxImport::int64s(const onnx::TensorProto &t, const std::string &what) {
  return values<int64_t>(t, what, onnx::TensorProto::INT64, t.int64_data());
}

std::optional<std::vector<int32_t>>
OnnxImport::int32s(const onnx::TensorProto &t, const std::string &what) {
  return values<int32_t>(t, what, onnx::TensorProto::INT32, t.int32_data());
}

std::optional<std::vector<uint8_t>>
OnnxImport::bools(const onnx::TensorProto &t, const std::string &what) {
  return values<uint8_t>(t, what, onnx::TensorProto::BOOL, t.int32_data());
}

std::optional<std::vector<double>>
OnnxImport::doubles(const onnx::TensorProto &t, const std::string &what) {
  return values<double>(t, what, onnx::TensorProto::DOUBLE, t.double_data());
}

} // namespace gradc::onnximport
