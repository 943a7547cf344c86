//===- OnnxAttributes.cpp - a node's attributes ---------------------------===//
//
// The one job of this file: reading a node's attributes (a missing one
// gives the operator's default) and refusing those a converter does not
// know.
//
//===----------------------------------------------------------------------===//

#include "frontend/onnx/OnnxImport.h"

#include "absl/strings/str_cat.h"

#include <algorithm>

namespace gradc::onnximport {

const onnx::AttributeProto *OnnxImport::attr(const Node &n,
                                             const char *name) const {
  for (const auto &a : n.attribute())
    if (a.name() == name)
      return &a;
  return nullptr;
}

int64_t OnnxImport::attrInt(const Node &n, const char *name, int64_t d) const {
  const auto *a = attr(n, name);
  return a ? a->i() : d;
}

float OnnxImport::attrFloat(const Node &n, const char *name, float d) const {
  const auto *a = attr(n, name);
  return a ? a->f() : d;
}

std::vector<int64_t> OnnxImport::attrInts(const Node &n,
                                          const char *name) const {
  const auto *a = attr(n, name);
  return a ? std::vector<int64_t>(a->ints().begin(), a->ints().end())
           : std::vector<int64_t>();
}

std::optional<std::vector<int64_t>> OnnxImport::axesOf(const Node &n) {
  if (!hasInput(n, 1))
    return attrInts(n, "axes");
  const onnx::TensorProto *a = constant(n, 1, false);
  if (!a)
    return std::nullopt;
  return int64s(*a, absl::StrCat("axes '", a->name(), "'"));
}

std::string OnnxImport::attrString(const Node &n, const char *name,
                                   const char *d) const {
  const auto *a = attr(n, name);
  return a ? a->s() : d;
}

int64_t OnnxImport::attrAxis(const Node &n, int64_t d, int64_t rank) const {
  int64_t axis = attrInt(n, "axis", d);
  return axis < 0 ? axis + rank : axis;
}

bool OnnxImport::onlyAttrs(const Node &n,
                           std::initializer_list<const char *> known) {
  bool ok = true;
  for (const auto &a : n.attribute())
    if (std::none_of(known.begin(), known.end(),
                     [&](const char *k) { return a.name() == k; }))
      ok = fail(n, absl::StrCat("attribute '", a.name(), "' is not supported"));
  return ok;
}

} // namespace gradc::onnximport
