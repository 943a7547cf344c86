//===- TrainReport.cpp - the parts of the report a run adds at its end ----===//

#include "tools/TrainReport.h"

#include "frontend/ModelSummary.h"
#include "ir/NNDialect.h"
#include "runtime/evaluator/ReferenceEvaluator.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinOps.h"

#include <iostream>

namespace gradc {
namespace {

constexpr int64_t kSamples = 3, kMapsPerLayer = 8;

ReportImage exampleImage(const Dataset &data, int64_t i) {
  return {data.height, data.width, data.channels, data.examples(i, 1)};
}

/// One image per filter of an HWIO kernel: RGB for 3 input channels, else
/// the mean over the input channels.
std::vector<ReportImage> filterImages(const Buffer &kernel) {
  int64_t kh = kernel.shape[0], kw = kernel.shape[1], cin = kernel.shape[2],
          f = kernel.shape[3];
  std::vector<ReportImage> out;
  for (int64_t k = 0; k < f; ++k) {
    ReportImage img{kh, kw, cin == 3 ? 3 : 1, {}};
    for (int64_t y = 0; y < kh; ++y)
      for (int64_t x = 0; x < kw; ++x) {
        float mean = 0;
        for (int64_t c = 0; c < cin; ++c) {
          float v = kernel.data[((y * kw + x) * cin + c) * f + k];
          if (cin == 3)
            img.pixels.push_back(v);
          mean += v / float(cin);
        }
        if (cin != 3)
          img.pixels.push_back(mean);
      }
    out.push_back(std::move(img));
  }
  return out;
}

} // namespace

std::string &processCommandLine() {
  static std::string line;
  return line;
}

ReportData startReport(const ResolvedModel &model,
                       const std::vector<std::string> &classNames) {
  ReportData report;
  report.model = model.name;
  report.commandLine = processCommandLine();
  report.summary = modelSummary(model);
  report.classNames = classNames;
  report.regression = model.regression;
  return report;
}

namespace {
/// The end-of-run parts: confusion, mistakes, filters and feature maps.
absl::Status fillEndOfRun(Session &session, const ResolvedModel &model,
                          const ParameterStore &params, const Dataset &data,
                          const EvalResult &test, ReportData &report) {
  report.confusion = test.confusion;
  report.mistakes.clear();
  report.samples.clear();
  report.featureMaps.clear();
  // Examples are pictures, and have feature maps, only for image inputs.
  if (model.inputShape().size() != 3 || model.firstInput().integer())
    return absl::OkStatus();
  for (const EvalResult::Mistake &m : test.mistakes)
    report.mistakes.push_back({exampleImage(data, m.index),
                               data.labels[m.index], m.predicted,
                               m.probability});
  // The first conv layer's filters.
  report.filters.clear();
  for (const ResolvedLayer &l : model.layers)
    if (l.kind == Layer::kConv2D && l.param("kernel") >= 0) {
      report.filtersLayer = l.layer->name();
      report.filters = filterImages(params.params[l.param("kernel")]);
      break;
    }
  // Feature maps: @predict on a few test images in the reference
  // evaluator, keeping the last value each conv layer computes (its output
  // after the activation).
  int64_t n = std::min<int64_t>(kSamples, data.size());
  if (n == 0)
    return absl::OkStatus();
  auto module = session.importLoaded(n);
  if (!module)
    return absl::InternalError("error: report: import failed");
  auto predict = (**module).lookupSymbol<mlir::func::FuncOp>("predict");
  std::vector<HostValue<float>> args;
  for (const Buffer &b : params.params)
    args.push_back(HostTensor<float>(b.shape, b.data));
  for (const Buffer &b : params.buffers)
    args.push_back(HostTensor<float>(b.shape, b.data));
  std::vector<int64_t> xShape{n, data.height, data.width, data.channels};
  std::vector<float> x = data.examples(0, n);
  args.push_back(HostTensor<float>(xShape, x));
  std::vector<std::string> convLayers;
  for (const ResolvedLayer &l : model.layers)
    if (l.kind == Layer::kConv2D)
      convLayers.push_back(l.layer->name());
  std::map<std::string, HostTensor<float>> outputs;
  EvalObserver<float> observer = [&](mlir::Value v,
                                     const HostValue<float> &value) {
    auto name = llvm::dyn_cast<mlir::NameLoc>(v.getLoc());
    const auto *t = std::get_if<HostTensor<float>>(&value);
    if (!name || !t || t->rank() != 4)
      return;
    std::string layer = name.getName().str();
    if (std::find(convLayers.begin(), convLayers.end(), layer) !=
        convLayers.end())
      outputs[layer] = *t;
  };
  auto result = evaluate<float>(predict, std::move(args), observer);
  if (!result.ok())
    return result.status();
  for (int64_t s = 0; s < n; ++s)
    report.samples.push_back(exampleImage(data, s));
  for (const std::string &layer : convLayers) {
    auto it = outputs.find(layer);
    if (it == outputs.end())
      continue;
    const HostTensor<float> &t = it->second;
    int64_t h = t.dim(1), w = t.dim(2), c = t.dim(3);
    ReportData::FeatureMaps maps{layer, {}};
    for (int64_t s = 0; s < n; ++s) {
      std::vector<ReportImage> channels;
      for (int64_t k = 0; k < std::min(c, kMapsPerLayer); ++k) {
        ReportImage img{h, w, 1, {}};
        for (int64_t y = 0; y < h; ++y)
          for (int64_t xx = 0; xx < w; ++xx)
            img.pixels.push_back(t[((s * h + y) * w + xx) * c + k]);
        channels.push_back(std::move(img));
      }
      maps.perSample.push_back(std::move(channels));
    }
    report.featureMaps.push_back(std::move(maps));
  }
  return absl::OkStatus();
}

} // namespace

absl::Status finishReport(Session &session, const ResolvedModel &model,
                          const ParameterStore &params, const Dataset &data,
                          const EvalResult &test, ReportData &report,
                          const std::string &dir) {
  if (absl::Status s = fillEndOfRun(session, model, params, data, test, report);
      !s.ok())
    return s;
  if (absl::Status s = writeReport(dir, report); !s.ok())
    return s;
  std::cout << "report: " << dir << "/index.html\n";
  return absl::OkStatus();
}

} // namespace gradc
