//===- OnnxConformance.cpp - ONNX's backend tests through gradc -----------===//
//
// Attempts every test of ONNX's backend test data (Debian's
// libonnx-testdata: node/, pytorch-converted/, pytorch-operator/, simple/;
// a model.onnx and test_data_set_*/input_*.pb, output_*.pb per test) and
// reports each as PASS, FAIL or SKIP:
//   - SKIP: gradc does not take the model: the unsupported operators, or the
//     importer's or checker's one-line reason (which names the node, its
//     operator and the attribute or shape);
//   - FAIL: gradc takes it but compiling or running it fails, crashes or
//     times out, or the output differs from the expected one by more than
//     ONNX's backend tolerance (|got - want| <= 1e-5 + 1e-3 |want|);
//   - PASS otherwise.
// A model's first input is the data (FLOAT, or INT64 or INT32 ids), and so
// is every other input of those types of rank >= 2 with the same first
// dimension (the batch); the others become initializers with the test's
// values, as gradc takes weights. An input that gradc holds channels last
// (ModelFile::channelsLastInputs) is fed so; the output is in ONNX's order.
// Each test runs
// in a child process, so a crash is that test's FAIL, not the runner's.
//
// The checked-in list of passing tests (tests/onnx/passing.txt) is the
// contract: a listed test that does not pass, any FAIL, or a PASS that is not
// listed fails the run (exit 1). `--update` rewrites the list instead.
//
// Usage: onnx-conformance DATA_DIR SCRATCH_DIR PASSING_LIST [--update]
//                         [--filter SUBSTRING]
// Prints one line per test, the counts per folder, the operators most
// often missing, and "N passed, N failed, N skipped".
//
//===----------------------------------------------------------------------===//

#include "frontend/Importer.h"
#include "frontend/OnnxImporter.h"
#include "passes/Passes.h"
#include "runtime/jit/Jit.h"
#include "runtime/params/Parameters.h"

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
#include <map>
#include <set>
#include <sstream>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

using namespace gradc;

namespace {

/// The folders of the test data that hold backend tests, in report order.
const char *const kFolders[] = {"node", "pytorch-converted", "pytorch-operator",
                                "simple"};
/// Seconds one test may take (compile and run) before it is a FAIL.
constexpr unsigned kTestSeconds = 60;

bool readProto(const std::string &path, google::protobuf::Message &m) {
  std::ifstream in(path, std::ios::binary);
  if (!in)
    return false;
  std::stringstream ss;
  ss << in.rdbuf();
  return m.ParseFromString(ss.str());
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

/// An INT64 or INT32 tensor's values as they are laid out in memory (in
/// int64_t storage, so 8-byte aligned).
std::vector<int64_t> idsOf(const onnx::TensorProto &t) {
  bool wide = t.data_type() == onnx::TensorProto::INT64;
  size_t bytes = t.has_raw_data() ? t.raw_data().size()
                 : wide           ? size_t(t.int64_data_size()) * 8
                                  : size_t(t.int32_data_size()) * 4;
  std::vector<int64_t> v((bytes + 7) / 8);
  if (t.has_raw_data())
    std::memcpy(v.data(), t.raw_data().data(), bytes);
  else if (wide)
    std::copy(t.int64_data().begin(), t.int64_data().end(), v.begin());
  else
    std::copy(t.int32_data().begin(), t.int32_data().end(),
              reinterpret_cast<int32_t *>(v.data()));
  return v;
}

bool isIds(const onnx::TensorProto &t) {
  return t.data_type() == onnx::TensorProto::INT64 ||
         t.data_type() == onnx::TensorProto::INT32;
}

/// NCHW (NCW) data as gradc holds an input that it holds channels last:
/// NHWC (N, 1, W, C).
std::vector<float> toChannelsLast(const std::vector<float> &v,
                                  const std::vector<int64_t> &dims) {
  int64_t n = dims[0], c = dims[1], h = dims.size() == 4 ? dims[2] : 1,
          w = dims.back();
  std::vector<float> out(v.size());
  for (int64_t b = 0; b < n; ++b)
    for (int64_t k = 0; k < c; ++k)
      for (int64_t y = 0; y < h; ++y)
        for (int64_t x = 0; x < w; ++x)
          out[((b * h + y) * w + x) * c + k] = v[((b * c + k) * h + y) * w + x];
  return out;
}

enum class Kind { Pass, Fail, Skip };

struct Outcome {
  Kind kind;
  std::string why;
};

/// The first line of a status message, without the file name.
std::string reason(const std::string &message) {
  std::string line = message.substr(0, message.find('\n'));
  size_t at = line.find(": error: ");
  return at == std::string::npos ? line : line.substr(at + 9);
}

/// The operators of `model` gradc does not import (other domains' as
/// "domain.Op").
std::set<std::string> unsupportedOps(const onnx::ModelProto &model) {
  static const std::set<std::string> supported(supportedOnnxOps().begin(),
                                               supportedOnnxOps().end());
  std::set<std::string> missing;
  for (const auto &n : model.graph().node()) {
    bool defaultDomain = n.domain().empty() || n.domain() == "ai.onnx";
    if (!defaultDomain || !supported.count(n.op_type()))
      missing.insert(defaultDomain ? n.op_type()
                                   : n.domain() + "." + n.op_type());
  }
  return missing;
}

std::string typeName(int type) {
  return onnx::TensorProto::DataType_Name(onnx::TensorProto::DataType(type));
}

/// Runs one test (in the child process).
Outcome runTest(mlir::MLIRContext &ctx, onnx::ModelProto model,
                const std::string &dir, const std::string &scratch) {
  std::string data = dir + "/test_data_set_0";
  std::vector<onnx::TensorProto> inputs, outputs;
  for (const std::string &f : listDir(data)) {
    onnx::TensorProto t;
    if (!readProto(data + "/" + f, t))
      return {Kind::Fail, f + " does not parse"};
    (f.rfind("input_", 0) == 0 ? inputs : outputs).push_back(t);
  }
  if (outputs.size() != 1)
    return {Kind::Skip, std::to_string(outputs.size()) +
                            " outputs (a gradc model computes one)"};
  if (inputs.empty())
    return {Kind::Skip, "no input (a gradc model computes from one)"};
  if (inputs[0].data_type() != onnx::TensorProto::FLOAT && !isIds(inputs[0]))
    return {Kind::Skip, "the data input is " + typeName(inputs[0].data_type()) +
                            " (a gradc model takes FLOAT, INT64 or INT32 "
                            "inputs)"};
  if (outputs[0].data_type() != onnx::TensorProto::FLOAT)
    return {Kind::Skip, "the output is " + typeName(outputs[0].data_type()) +
                            " (a gradc model computes FLOAT)"};
  // Inputs after the first that are batches as it is (FLOAT, rank >= 2, the
  // same first dimension) are tried as inputs first; when gradc does not
  // take the model so (a convolution's weight), every input after the first
  // becomes an initializer with the test's values, as gradc takes weights.
  std::vector<onnx::TensorProto> fed;
  auto prepare = [&](bool keepBatches,
                     ModelFile &file) -> absl::StatusOr<ResolvedModel> {
    onnx::ModelProto copy = model;
    onnx::GraphProto &g = *copy.mutable_graph();
    std::vector<onnx::ValueInfoProto> kept;
    fed.clear();
    // An input that has an initializer stays listed: below IR version 4
    // (the pytorch-converted tests) every initializer must be a graph input,
    // or ONNX's version converter does not find it.
    std::set<std::string> initialized;
    for (const auto &t : g.initializer())
      initialized.insert(t.name());
    int k = 0;
    for (const auto &in : g.input()) {
      if (k >= int(inputs.size())) {
        if (initialized.count(in.name()))
          kept.push_back(in);
        continue;
      }
      const onnx::TensorProto &t = inputs[k];
      bool batch =
          k == 0 || (keepBatches &&
                     (t.data_type() == onnx::TensorProto::FLOAT || isIds(t)) &&
                     t.dims_size() >= 2 && inputs[0].dims_size() >= 1 &&
                     t.dims(0) == inputs[0].dims(0));
      if (batch) {
        kept.push_back(in);
        fed.push_back(t);
      } else {
        onnx::TensorProto init = t;
        init.set_name(in.name());
        *g.add_initializer() = init;
        if (copy.ir_version() < 4)
          kept.push_back(in);
      }
      ++k;
    }
    g.clear_input();
    for (auto &in : kept)
      *g.add_input() = in;
    std::string path = scratch + "/model.onnx";
    {
      std::ofstream out(path, std::ios::binary | std::ios::trunc);
      out << copy.SerializeAsString();
    }
    file = ModelFile();
    file.path = path;
    if (absl::Status s = importOnnxNetwork(path, file); !s.ok())
      return s;
    return checkModel(file, /*forTraining=*/false);
  };
  ModelFile file;
  auto checked = prepare(true, file);
  if (!checked.ok() && fed.size() > 1)
    checked = prepare(false, file);
  if (!checked.ok())
    return {Kind::Skip, reason(std::string(checked.status().message()))};
  const ResolvedModel &m = *checked;
  bool computes = false;
  for (const ResolvedLayer &l : m.layers)
    computes |= l.kind != Layer::kDropout;
  if (!computes)
    return {Kind::Skip, "Dropout alone: at inference the model is its input, "
                        "which @predict cannot return"};
  std::vector<int64_t> xDims(inputs[0].dims().begin(), inputs[0].dims().end());
  if (xDims.empty())
    return {Kind::Skip, "a scalar input (a gradc model takes a batch)"};
  int64_t batch = xDims[0];
  auto module = importModel(ctx, m, batch);
  if (!module.ok())
    return {Kind::Fail, reason(std::string(module.status().message()))};
  // @predict alone: clean-up, fusion, lowering (no training graph).
  mlir::PassManager pm(&ctx, "builtin.module");
  pm.addPass(mlir::createCanonicalizerPass());
  pm.addNestedPass<mlir::func::FuncOp>(createFoldBatchNorm());
  pm.addNestedPass<mlir::func::FuncOp>(createFuseConvActivation());
  buildLoweringPipeline(pm, Stage::LLVM, 1);
  if (mlir::failed(pm.run(**module)))
    return {Kind::Fail, "compilation failed"};
  JitOptions options;
  options.optLevel = 0; // each test is compiled once and run once
  auto jit = JitModule::create(**module, options);
  if (!jit.ok())
    return {Kind::Fail, reason(std::string(jit.status().message()))};

  ParameterStore params = ParameterStore::initialize(m, 0);
  std::vector<BufferRef> args;
  for (auto *list : {&params.params, &params.buffers})
    for (Buffer &b : *list)
      args.push_back({b.data.data(), {b.shape.begin(), b.shape.end()}});
  std::vector<std::vector<float>> xs;
  std::vector<std::vector<int64_t>> idBuffers;
  xs.reserve(fed.size()); // the arguments point into them
  idBuffers.reserve(fed.size());
  for (size_t i = 0; i < fed.size() && i < m.inputs.size(); ++i) {
    std::vector<int64_t> dims(fed[i].dims().begin(), fed[i].dims().end());
    void *data;
    if (isIds(fed[i])) { // ids as they are, no relayout
      idBuffers.push_back(idsOf(fed[i]));
      data = idBuffers.back().data();
    } else {
      xs.push_back(floatsOf(fed[i]));
      if (file.channelsLastInputs.count(m.inputs[i].name))
        xs.back() = toChannelsLast(xs.back(), dims);
      data = xs.back().data();
    }
    BufferRef xr{data, {batch}};
    xr.shape.append(m.inputs[i].shape.begin(), m.inputs[i].shape.end());
    args.push_back(xr);
  }
  const std::vector<int64_t> &outShape = m.outputShape();
  int64_t outElements = batch;
  for (int64_t d : outShape)
    outElements *= d;
  std::vector<float> y(outElements);
  BufferRef yr{y.data(), {batch}};
  yr.shape.append(outShape.begin(), outShape.end());
  args.push_back(yr);
  if (absl::Status s = (*jit)->call("predict", args); !s.ok())
    return {Kind::Fail, reason(std::string(s.message()))};
  std::vector<float> want = floatsOf(outputs[0]);
  if (want.size() != y.size())
    return {Kind::Fail, "output has " + std::to_string(y.size()) +
                            " elements, expected " +
                            std::to_string(want.size())};
  double worst = 0;
  bool ok = true;
  for (size_t i = 0; i < y.size(); ++i) {
    if (std::isnan(y[i]) && std::isnan(want[i]))
      continue; // NaN where expected, as NumPy's assert_allclose takes it
    double err = std::fabs(double(y[i]) - want[i]);
    ok &= err <= 1e-5 + 1e-3 * std::fabs(want[i]);
    worst = std::max(worst, err);
  }
  if (!ok)
    return {Kind::Fail, "max |gradc - expected| = " + std::to_string(worst)};
  return {Kind::Pass, ""};
}

/// Runs one test in a child process with a time limit: the child writes
/// its outcome as one byte and the reason to a pipe.
Outcome runIsolated(mlir::MLIRContext &ctx, const onnx::ModelProto &model,
                    const std::string &dir, const std::string &scratch) {
  int fds[2];
  if (pipe(fds) != 0)
    return {Kind::Fail, "pipe() failed"};
  std::cout.flush();
  pid_t pid = fork();
  if (pid < 0)
    return {Kind::Fail, "fork() failed"};
  if (pid == 0) {
    close(fds[0]);
    alarm(kTestSeconds);
    Outcome o = runTest(ctx, model, dir, scratch);
    std::string msg = std::string(1, char('0' + int(o.kind))) + o.why;
    ssize_t written = write(fds[1], msg.data(), msg.size());
    _exit(written == ssize_t(msg.size()) ? 0 : 1);
  }
  close(fds[1]);
  std::string msg;
  char buf[4096];
  for (ssize_t n; (n = read(fds[0], buf, sizeof(buf))) > 0;)
    msg.append(buf, n);
  close(fds[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  if (WIFSIGNALED(status))
    return {Kind::Fail,
            WTERMSIG(status) == SIGALRM
                ? "timed out after " + std::to_string(kTestSeconds) + " s"
                : std::string("crashed (") + strsignal(WTERMSIG(status)) + ")"};
  if (msg.empty() || WEXITSTATUS(status) != 0)
    return {Kind::Fail, "the test process exited with status " +
                            std::to_string(WEXITSTATUS(status))};
  return {Kind(msg[0] - '0'), msg.substr(1)};
}

std::set<std::string> readList(const std::string &path) {
  std::set<std::string> names;
  std::ifstream in(path);
  for (std::string line; std::getline(in, line);)
    if (!line.empty() && line[0] != '#')
      names.insert(line);
  return names;
}

struct Counts {
  int passed = 0, failed = 0, skipped = 0;
};

} // namespace

int main(int argc, char **argv) {
  std::vector<std::string> positional;
  bool update = false;
  std::string filter;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--update")
      update = true;
    else if (a == "--filter" && i + 1 < argc)
      filter = argv[++i];
    else
      positional.push_back(a);
  }
  if (positional.size() != 3) {
    std::cerr << "usage: onnx-conformance DATA_DIR SCRATCH_DIR PASSING_LIST "
                 "[--update] [--filter SUBSTRING]\n";
    return 2;
  }
  std::string root = positional[0], scratch = positional[1],
              listPath = positional[2];
  mkdir(scratch.c_str(), 0755);
  registerGradcPassesAndPipelines();
  mlir::DialectRegistry registry;
  registerGradcDialects(registry);
  // One thread: each test forks, and a fork keeps only the calling thread.
  mlir::MLIRContext ctx(registry, mlir::MLIRContext::Threading::DISABLED);
  ctx.loadAllAvailableDialects();
  ctx.printOpOnDiagnostic(false);
  // Diagnostics of a failing test are its own line, not the runner's.
  mlir::ScopedDiagnosticHandler quiet(
      &ctx, [](mlir::Diagnostic &) { return mlir::success(); });

  std::set<std::string> listed = readList(listPath), passing;
  std::map<std::string, Counts> perFolder;
  std::map<std::string, int> missingOps;
  Counts all;
  int attempted = 0;
  for (const char *folder : kFolders) {
    std::string dir = root + "/" + folder;
    for (const std::string &name : listDir(dir)) {
      std::string id = std::string(folder) + "/" + name;
      if (!filter.empty() && id.find(filter) == std::string::npos)
        continue;
      ++attempted;
      Outcome o;
      onnx::ModelProto model;
      if (!readProto(dir + "/" + name + "/model.onnx", model)) {
        o = {Kind::Fail, "model.onnx does not parse"};
      } else if (std::set<std::string> ops = unsupportedOps(model);
                 !ops.empty()) {
        std::string list;
        for (const std::string &op : ops) {
          list += (list.empty() ? "" : ", ") + op;
          ++missingOps[op];
        }
        o = {Kind::Skip, "unsupported operator(s): " + list};
      } else {
        o = runIsolated(ctx, model, dir + "/" + name, scratch);
      }
      Counts &c = perFolder[folder];
      const char *tag = o.kind == Kind::Pass   ? "PASS"
                        : o.kind == Kind::Fail ? "FAIL"
                                               : "SKIP";
      std::cout << tag << " " << id << (o.why.empty() ? "" : ": ") << o.why
                << "\n";
      if (o.kind == Kind::Pass) {
        passing.insert(id);
        ++c.passed, ++all.passed;
      } else if (o.kind == Kind::Fail) {
        ++c.failed, ++all.failed;
      } else {
        ++c.skipped, ++all.skipped;
      }
    }
  }
  if (attempted == 0) {
    std::cerr << "onnx-conformance: no test found under " << root << "\n";
    return 1;
  }

  std::cout << "\nper folder:\n";
  for (const char *folder : kFolders) {
    const Counts &c = perFolder[folder];
    std::cout << "  " << folder << ": " << c.passed << " passed, " << c.failed
              << " failed, " << c.skipped << " skipped (of "
              << c.passed + c.failed + c.skipped << ")\n";
  }
  std::vector<std::pair<int, std::string>> byCount;
  for (const auto &[op, n] : missingOps)
    byCount.push_back({-n, op});
  std::sort(byCount.begin(), byCount.end());
  std::cout << "operators most often missing (tests skipped for each):";
  for (size_t i = 0; i < byCount.size() && i < 25; ++i)
    std::cout << (i ? ", " : " ") << byCount[i].second << " "
              << -byCount[i].first;
  std::cout << "\n";

  int status = all.failed ? 1 : 0;
  if (update) {
    std::ofstream out(listPath, std::ios::trunc);
    out << "# The ONNX backend tests gradc passes (tests/onnx/"
           "OnnxConformance.cpp).\n# Any of them that stops passing fails "
           "ctest; regenerate with --update.\n";
    for (const std::string &id : passing)
      out << id << "\n";
    std::cout << "wrote " << passing.size() << " tests to " << listPath << "\n";
  } else {
    for (const std::string &id : listed)
      if (!passing.count(id) &&
          (filter.empty() || id.find(filter) != std::string::npos)) {
        std::cout << "REGRESSION " << id << ": listed as passing in "
                  << listPath << "\n";
        status = 1;
      }
    for (const std::string &id : passing)
      if (!listed.count(id)) {
        std::cout << "NEW PASS " << id << ": add it to " << listPath
                  << " (onnx-conformance ... --update)\n";
        status = 1;
      }
  }
  std::cout << all.passed << " passed, " << all.failed << " failed, "
            << all.skipped << " skipped\n";
  return status;
}
