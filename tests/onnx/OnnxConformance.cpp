//===- OnnxConformance.cpp - ONNX's node tests through gradc --------------===//
//
// Runs the node tests of ONNX's backend test suite (Debian's
// libonnx-testdata: a model.onnx and test_data_set_*/input_*.pb,
// output_*.pb per test) whose operators gradc imports: each model goes
// through gradc's importer, checker, lowering and JIT, and @predict's output
// is compared with the expected one (|got - want| <= 1e-5 + 1e-3 |want|,
// ONNX's own backend tolerance with a float32 atol). A model's first input
// is the data; the others become initializers with the test's values, as
// gradc takes weights. Tests gradc cannot import (an unsupported attribute,
// a second output, a dynamic input) are skipped with the importer's reason.
//
// Usage: onnx-conformance NODE_TEST_DIR SCRATCH_DIR [FILTER]
// Prints one line per test and "N passed, N failed, N skipped"; exits 1 when
// a test fails or none passes.
//
//===----------------------------------------------------------------------===//

#include "frontend/Importer.h"
#include "frontend/OnnxImporter.h"
#include "passes/Passes.h"
#include "runtime/Jit.h"
#include "runtime/Parameters.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Transforms/Passes.h"

#include "onnx/onnx_pb.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <dirent.h>
#include <fstream>
#include <iostream>
#include <set>
#include <sstream>
#include <sys/stat.h>

using namespace gradc;

namespace {

bool readProto(const std::string &path, google::protobuf::Message &m) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return in.good() || in.eof() ? m.ParseFromString(ss.str()) : false;
}

std::vector<std::string> listDir(const std::string &dir) {
  std::vector<std::string> names;
  if (DIR *d = opendir(dir.c_str())) {
    while (dirent *e = readdir(d))
      if (e->d_name[0] != '.')
        names.push_back(e->d_name);
    closedir(d);
  }
  std::sort(names.begin(), names.end());
  return names;
}

std::vector<float> floatsOf(const onnx::TensorProto &t) {
  if (t.has_raw_data()) {
    std::vector<float> v(t.raw_data().size() / 4);
    std::memcpy(v.data(), t.raw_data().data(), v.size() * 4);
    return v;
  }
  return {t.float_data().begin(), t.float_data().end()};
}

/// NCHW to NHWC (to = true) or back, for rank-4 data.
std::vector<float> relayout(const std::vector<float> &v,
                            const std::vector<int64_t> &nchw, bool toNhwc) {
  int64_t n = nchw[0], c = nchw[1], h = nchw[2], w = nchw[3];
  std::vector<float> out(v.size());
  for (int64_t b = 0; b < n; ++b)
    for (int64_t k = 0; k < c; ++k)
      for (int64_t y = 0; y < h; ++y)
        for (int64_t x = 0; x < w; ++x) {
          int64_t a = ((b * c + k) * h + y) * w + x,
                  z = ((b * h + y) * w + x) * c + k;
          if (toNhwc)
            out[z] = v[a];
          else
            out[a] = v[z];
        }
  return out;
}

struct Outcome {
  enum { Pass, Fail, Skip } kind;
  std::string why;
};

/// The first line of a status message, without the file name.
std::string reason(const std::string &message) {
  std::string line = message.substr(0, message.find('\n'));
  size_t at = line.find(": error: ");
  return at == std::string::npos ? line : line.substr(at + 9);
}

Outcome runTest(mlir::MLIRContext &ctx, const std::string &dir,
                const std::string &scratch) {
  onnx::ModelProto model;
  if (!readProto(dir + "/model.onnx", model))
    return {Outcome::Skip, "model.onnx does not parse"};
  std::string data = dir + "/test_data_set_0";
  std::vector<onnx::TensorProto> inputs, outputs;
  for (const std::string &f : listDir(data)) {
    onnx::TensorProto t;
    if (!readProto(data + "/" + f, t))
      return {Outcome::Skip, f + " does not parse"};
    (f.rfind("input_", 0) == 0 ? inputs : outputs).push_back(t);
  }
  if (outputs.size() != 1)
    return {Outcome::Skip,
            std::to_string(outputs.size()) + " outputs (gradc computes one)"};
  if (inputs.empty() || inputs[0].data_type() != onnx::TensorProto::FLOAT)
    return {Outcome::Skip, "the first input is not a float tensor"};
  // Inputs after the first become initializers with the test's values.
  onnx::GraphProto &g = *model.mutable_graph();
  std::vector<onnx::ValueInfoProto> kept;
  int k = 0;
  for (const auto &in : g.input()) {
    if (k == 0)
      kept.push_back(in);
    else if (k < int(inputs.size())) {
      onnx::TensorProto t = inputs[k];
      t.set_name(in.name());
      *g.add_initializer() = t;
    }
    ++k;
  }
  g.clear_input();
  for (auto &in : kept)
    *g.add_input() = in;
  std::string path = scratch + "/model.onnx";
  {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << model.SerializeAsString();
  }
  ModelFile file;
  file.path = path;
  if (absl::Status s = importOnnxNetwork(path, file); !s.ok())
    return {Outcome::Skip, reason(std::string(s.message()))};
  auto checked = checkModel(file, /*forTraining=*/false);
  if (!checked.ok())
    return {Outcome::Skip, reason(std::string(checked.status().message()))};
  const ResolvedModel &m = *checked;
  bool computes = false;
  for (const ResolvedLayer &l : m.layers)
    computes |= l.kind != Layer::kDropout;
  if (!computes)
    return {Outcome::Skip, "at inference the model is its input (dropout "
                           "alone), which @predict cannot return"};
  std::vector<int64_t> xDims(inputs[0].dims().begin(), inputs[0].dims().end());
  int64_t batch = xDims[0];
  auto module = importModel(ctx, m, batch);
  if (!module.ok())
    return {Outcome::Fail, reason(std::string(module.status().message()))};
  // @predict alone: clean-up, fusion, lowering (no training graph).
  mlir::PassManager pm(&ctx, "builtin.module");
  pm.addPass(mlir::createCanonicalizerPass());
  pm.addNestedPass<mlir::func::FuncOp>(createFoldBatchNorm());
  pm.addNestedPass<mlir::func::FuncOp>(createFuseConvActivation());
  buildLoweringPipeline(pm, Stage::LLVM, 1);
  if (mlir::failed(pm.run(**module)))
    return {Outcome::Fail, "compilation failed"};
  JitOptions options;
  options.optLevel = 0; // each test is compiled once and run once
  auto jit = JitModule::create(**module, options);
  if (!jit.ok())
    return {Outcome::Fail, reason(std::string(jit.status().message()))};

  ParameterStore params = ParameterStore::initialize(m, 0);
  std::vector<BufferRef> args;
  for (auto *list : {&params.params, &params.buffers})
    for (Buffer &b : *list)
      args.push_back({b.data.data(), {b.shape.begin(), b.shape.end()}});
  std::vector<float> x = floatsOf(inputs[0]);
  if (xDims.size() == 4)
    x = relayout(x, xDims, true);
  BufferRef xr{x.data(), {batch}};
  xr.shape.append(m.inputShape.begin(), m.inputShape.end());
  args.push_back(xr);
  const std::vector<int64_t> &outShape = m.outputShape();
  int64_t outElements = batch;
  for (int64_t d : outShape)
    outElements *= d;
  std::vector<float> y(outElements);
  BufferRef yr{y.data(), {batch}};
  yr.shape.append(outShape.begin(), outShape.end());
  args.push_back(yr);
  if (absl::Status s = (*jit)->call("predict", args); !s.ok())
    return {Outcome::Fail, reason(std::string(s.message()))};
  if (outShape.size() == 3) // NHWC back to NCHW
    y = relayout(y, {batch, outShape[2], outShape[0], outShape[1]}, false);
  std::vector<float> want = floatsOf(outputs[0]);
  if (want.size() != y.size())
    return {Outcome::Fail, "output has " + std::to_string(y.size()) +
                               " elements, expected " +
                               std::to_string(want.size())};
  double worst = 0;
  bool ok = true;
  for (size_t i = 0; i < y.size(); ++i) {
    double err = std::fabs(double(y[i]) - want[i]);
    ok &= err <= 1e-5 + 1e-3 * std::fabs(want[i]);
    worst = std::max(worst, err);
  }
  if (!ok)
    return {Outcome::Fail, "max |gradc - expected| = " + std::to_string(worst)};
  return {Outcome::Pass, ""};
}

} // namespace

int main(int argc, char **argv) {
  if (argc < 3) {
    std::cerr << "usage: onnx-conformance NODE_TEST_DIR SCRATCH_DIR [FILTER]\n";
    return 2;
  }
  std::string root = argv[1], scratch = argv[2];
  std::string filter = argc > 3 ? argv[3] : "";
  mkdir(scratch.c_str(), 0755);
  registerGradcPassesAndPipelines();
  mlir::DialectRegistry registry;
  registerGradcDialects(registry);
  mlir::MLIRContext ctx(registry);
  ctx.loadAllAvailableDialects();
  ctx.printOpOnDiagnostic(false);
  // Diagnostics of a failing test are its own line, not the runner's.
  mlir::ScopedDiagnosticHandler quiet(
      &ctx, [](mlir::Diagnostic &) { return mlir::success(); });

  const auto &ops = supportedOnnxOps();
  std::set<std::string> supported(ops.begin(), ops.end());
  int passed = 0, failed = 0, skipped = 0;
  for (const std::string &name : listDir(root)) {
    if (!filter.empty() && name.find(filter) == std::string::npos)
      continue;
    onnx::ModelProto model;
    if (!readProto(root + "/" + name + "/model.onnx", model))
      continue;
    // A test of the supported operators: every node's operator is one.
    bool all = model.graph().node_size() > 0;
    for (const auto &n : model.graph().node())
      all &= supported.count(n.op_type()) > 0 && n.domain().empty();
    if (!all)
      continue;
    Outcome o = runTest(ctx, root + "/" + name, scratch);
    const char *tag = o.kind == Outcome::Pass   ? "PASS"
                      : o.kind == Outcome::Fail ? "FAIL"
                                                : "SKIP";
    std::cout << tag << " " << name << (o.why.empty() ? "" : ": ") << o.why
              << "\n";
    (o.kind == Outcome::Pass   ? passed
     : o.kind == Outcome::Fail ? failed
                               : skipped)++;
  }
  std::cout << passed << " passed, " << failed << " failed, " << skipped
            << " skipped\n";
  return failed == 0 && passed > 0 ? 0 : 1;
}
