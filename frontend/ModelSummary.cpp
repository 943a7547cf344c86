//===- ModelSummary.cpp - Keras's model.summary() for a model -------------===//

#include "frontend/ModelSummary.h"
#include "frontend/ModelBudget.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"

namespace gradc {
namespace {

int64_t elements(const std::vector<int64_t> &shape) {
  int64_t n = 1;
  for (int64_t d : shape)
    n *= d;
  return n;
}

/// 1234567 as "1,234,567".
std::string grouped(int64_t v) {
  std::string digits = std::to_string(v), out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0)
      out += ',';
    out += digits[i];
  }
  return out;
}

std::string batchShape(const std::vector<int64_t> &shape) {
  return absl::StrCat("[N, ", absl::StrJoin(shape, ", "), "]");
}

/// The parameters (trainable or not) a layer declares.
int64_t layerCount(const std::map<std::string, int> &roles,
                   const std::vector<ParamSpec> &specs) {
  int64_t n = 0;
  for (const auto &[role, index] : roles)
    n += elements(specs[index].shape);
  return n;
}

std::string kindName(const ResolvedLayer &l) {
  const auto *field = Layer::descriptor()->FindFieldByNumber(l.kind);
  return field ? field->name() : "?";
}

} // namespace

ModelTotals modelTotals(const ResolvedModel &model) {
  ModelTotals t;
  for (const ParamSpec &p : model.params)
    t.trainable += elements(p.shape);
  for (const ParamSpec &p : model.buffers)
    t.nonTrainable += elements(p.shape);
  for (const ResolvedLayer &l : model.layers)
    t.flops += l.flops;
  return t;
}

std::string modelSummary(const ResolvedModel &model) {
  struct Row {
    std::string name, shape, params, flops;
  };
  std::vector<Row> rows = {{absl::StrCat(model.inputName(), " (input)"),
                            batchShape(model.inputShape()), "0", "0.00"}};
  for (size_t i = 0; i < model.layers.size(); ++i) {
    const ResolvedLayer &l = model.layers[i];
    std::string name =
        l.layer->name().empty() ? absl::StrCat("#", i) : l.layer->name();
    int64_t params = layerCount(l.params, model.params) +
                     layerCount(l.buffers, model.buffers);
    rows.push_back({absl::StrCat(name, " (", kindName(l), ")"),
                    batchShape(l.shape), grouped(params),
                    absl::StrFormat("%.2f", l.flops / 1e6)});
  }
  size_t w0 = 12, w1 = 12, w2 = 6, w3 = 6;
  for (const Row &r : rows) {
    w0 = std::max(w0, r.name.size());
    w1 = std::max(w1, r.shape.size());
    w2 = std::max(w2, r.params.size());
    w3 = std::max(w3, r.flops.size());
  }
  auto line = [&](const std::string &a, const std::string &b,
                  const std::string &c, const std::string &d) {
    return absl::StrFormat("%-*s  %-*s  %*s  %*s\n", w0, a, w1, b, w2, c, w3,
                           d);
  };
  size_t width = w0 + w1 + w2 + w3 + 6;
  std::string out = absl::StrCat("Model: \"", model.name, "\"\n");
  out += line("Layer (kind)", "Output shape", "Params", "MFLOPs");
  out += std::string(width, '=') + "\n";
  for (const Row &r : rows)
    out += line(r.name, r.shape, r.params, r.flops);
  out += std::string(width, '=') + "\n";
  ModelTotals t = modelTotals(model);
  int64_t total = t.trainable + t.nonTrainable;
  out += absl::StrFormat("Total params: %s (%.2f KB)\n", grouped(total),
                         double(total) * 4 / 1024);
  out += absl::StrCat("Trainable params: ", grouped(t.trainable), "\n");
  out += absl::StrCat("Non-trainable params: ", grouped(t.nonTrainable), "\n");
  out += absl::StrFormat("Forward MFLOPs per example: %.2f\n", t.flops / 1e6);
  out += absl::StrCat("Compiled code: at least ",
                      humanBytes(moduleCodeBytes(model)), " (limit ",
                      humanBytes(kDefaultCodeLimitBytes), ")\n");
  return out;
}

} // namespace gradc
