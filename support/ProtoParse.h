//===- ProtoParse.h - binary protobuf with where parsing stopped -*- C++
//-*-===//
//
// Parses a binary protobuf message; when the bytes are not one, the error
// says what was expected and at which byte parsing stopped, so a truncated
// or corrupted file can be told from another format.
//
//===----------------------------------------------------------------------===//

#ifndef GRADC_SUPPORT_PROTOPARSE_H
#define GRADC_SUPPORT_PROTOPARSE_H

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/message.h"

#include <string>

namespace gradc {

/// Parses `bytes` into `message`; on failure "path: error: not WHAT
/// (protobuf parsing stopped at byte K of N: ...)".
inline absl::Status parseBinaryProto(const std::string &bytes,
                                     google::protobuf::Message &message,
                                     const std::string &path,
                                     const char *what) {
  google::protobuf::io::CodedInputStream in(
      reinterpret_cast<const uint8_t *>(bytes.data()), int(bytes.size()));
  in.SetRecursionLimit(100);
  if (message.MergePartialFromCodedStream(&in) && in.ConsumedEntireMessage() &&
      message.IsInitialized())
    return absl::OkStatus();
  int stopped = in.CurrentPosition();
  return absl::InvalidArgumentError(absl::StrCat(
      path, ": error: not ", what, " (protobuf parsing stopped at byte ",
      stopped, " of ", bytes.size(),
      stopped >= int(bytes.size()) ? ": the file ends inside a field, "
                                     "truncated?"
                                   : ": a malformed field there, corrupt or "
                                     "another format?",
      ")"));
}

} // namespace gradc

#endif // GRADC_SUPPORT_PROTOPARSE_H
