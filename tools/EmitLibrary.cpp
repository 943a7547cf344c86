//===- EmitLibrary.cpp - gradc compile --emit=lib -------------------------===//
//
// Ahead-of-time compilation: the compiled entry points (one object each, as
// the JIT compiles them) linked by the system C compiler into a shared
// library, with C wrappers that take plain pointers and a header that
// documents every shape. The library needs only the C library (and
// libomp for --threads > 1), not MLIR or LLVM.
//
//===----------------------------------------------------------------------===//

#include "tools/EmitLibrary.h"

#include "runtime/jit/Jit.h"
#include "runtime/params/Parameters.h"
#include "support/Files.h"

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Program.h"

namespace gradc {

namespace {

/// One argument of an entry point's C interface, in order.
struct Arg {
  std::string cType; // of the wrapper's parameter (empty: from an array)
  std::string cName; // the wrapper's parameter, or "weights[3]"
  std::vector<int64_t> shape;
  std::string doc;
};

std::string dims(const std::vector<int64_t> &shape) {
  if (shape.empty())
    return "scalar";
  return absl::StrCat("[", absl::StrJoin(shape, ", "), "]");
}

std::string cArray(const std::vector<int64_t> &v) {
  return absl::StrCat("{", v.empty() ? "0" : absl::StrJoin(v, ", "), "}");
}

int64_t elements(const std::vector<int64_t> &shape) {
  int64_t n = 1;
  for (int64_t d : shape)
    n *= d;
  return n;
}

/// The C wrapper of one entry point: a memref descriptor per argument
/// ({allocated, aligned, offset, sizes, strides}), then the packed call.
std::string wrapper(const std::string &name, const std::string &entry,
                    const std::string &signature,
                    const std::vector<Arg> &args) {
  std::string s = absl::StrCat("void ", name, "_", entry, "(", signature,
                               ") {\n  void *args[", args.size(), "], *desc[",
                               args.size(), "];\n");
  for (size_t i = 0; i < args.size(); ++i) {
    const Arg &a = args[i];
    size_t rank = a.shape.size();
    std::vector<int64_t> strides(rank, 1);
    for (size_t d = rank; d-- > 1;)
      strides[d - 1] = strides[d] * a.shape[d];
    absl::StrAppend(&s, "  static const int64_t shape", i,
                    "[] = ", cArray(a.shape), ", strides", i,
                    "[] = ", cArray(strides), ";\n  int64_t d", i, "[",
                    3 + 2 * rank, "];\n  describe(d", i, ", (void *)", a.cName,
                    ", ", rank, ", shape", i, ", strides", i, ");\n  desc[", i,
                    "] = d", i, ";\n  args[", i, "] = &desc[", i, "];\n");
  }
  absl::StrAppend(&s, "  _mlir__mlir_ciface_", entry, "(args);\n}\n\n");
  return s;
}

absl::Status runCompiler(const std::vector<std::string> &argv) {
  auto cc = llvm::sys::findProgramByName(argv[0]);
  if (!cc)
    return absl::FailedPreconditionError(
        absl::StrCat("gradc compile: error: --emit=lib links with the system "
                     "C compiler, and '",
                     argv[0], "' is not on the PATH"));
  std::vector<llvm::StringRef> args(argv.begin(), argv.end());
  std::string message;
  int rc =
      llvm::sys::ExecuteAndWait(*cc, args, std::nullopt, {}, 120, 0, &message);
  if (rc != 0)
    return absl::InternalError(absl::StrCat(
        "gradc compile: error: linking the library failed (", argv[0],
        " exited ", rc, message.empty() ? "" : ": ", message, ")"));
  return absl::OkStatus();
}

} // namespace

absl::Status emitLibrary(const ResolvedModel &model, mlir::ModuleOp lowered,
                         int64_t batch, const LibraryOptions &options) {
  llvm::StringRef file = llvm::sys::path::filename(options.output);
  llvm::StringRef stem = file;
  bool named = stem.consume_front("lib") && stem.consume_back(".so");
  std::string name = stem.str();
  bool identifier = named && !name.empty() && !isdigit(name[0]);
  for (char c : name)
    identifier &= isalnum(c) || c == '_';
  if (!identifier)
    return absl::InvalidArgumentError(absl::StrCat(
        "gradc compile: error: --emit=lib needs -o libNAME.so with NAME a C "
        "identifier (its functions are NAME_predict, ...), got '",
        options.output, "'"));
  if (model.firstInput().integer())
    return absl::UnimplementedError(
        absl::StrCat("gradc compile: error: --emit=lib: the model's input '",
                     model.inputName(), "' holds ",
                     Input::DType_Name(model.firstInput().dtype),
                     " ids; the library's C header takes float inputs only"));
  if (absl::Status s = checkOutputPath(options.output, "library"); !s.ok())
    return s;
  llvm::SmallString<256> headerPath(options.output);
  llvm::sys::path::remove_filename(headerPath);
  llvm::sys::path::append(headerPath, name + ".h");

  JitOptions jit;
  jit.optLevel = options.optLevel;
  auto code = compileNative(lowered, jit);
  if (!code.ok())
    return code.status();

  // The arguments, in the order of the entry points
  // (runtime/trainer/StepArguments.h's entryArguments): weights (parameters,
  // then buffers), optimizer state, then step, rate, images, labels and the
  // results.
  ParameterStore params = ParameterStore::initialize(model, 0);
  std::vector<const Buffer *> weights, state;
  for (const Buffer &b : params.params)
    weights.push_back(&b);
  for (const Buffer &b : params.buffers)
    weights.push_back(&b);
  for (const Buffer &b : params.state)
    state.push_back(&b);
  std::vector<int64_t> x{batch};
  x.insert(x.end(), model.inputShape().begin(), model.inputShape().end());
  int64_t width = model.outputWidth(); // classes, or targets per example
  std::vector<Arg> leading;
  for (size_t i = 0; i < weights.size(); ++i)
    leading.push_back({"", absl::StrCat("weights[", i, "]"), weights[i]->shape,
                       weights[i]->name});
  std::vector<Arg> stateArgs;
  for (size_t i = 0; i < state.size(); ++i)
    stateArgs.push_back(
        {"", absl::StrCat("state[", i, "]"), state[i]->shape, state[i]->name});
  Arg images{"const float *", "x", x, "images"};
  // A label per example, or per position of an output [T..., classes].
  Arg labels{"const int32_t *",
             "labels",
             {batch * model.labelsPerExample()},
             "labels"};
  Arg loss{"float *", "loss", {}, "loss"};
  Arg correct{"int64_t *", "correct", {}, "correct"};
  std::vector<Arg> predict = leading, eval = leading, train = leading;
  predict.push_back(images);
  std::vector<int64_t> out{batch};
  out.insert(out.end(), model.outputShape().begin(), model.outputShape().end());
  predict.push_back({"float *", "probabilities", out, ""});
  // Regression models take their value targets after the labels (which
  // then only mark padding rows: 0, or -1).
  Arg targets{"const float *", "targets", {batch, width}, "targets"};
  std::vector<Arg> ends{images, labels};
  if (model.regression)
    ends.push_back(targets);
  ends.insert(ends.end(), {loss, correct});
  eval.insert(eval.end(), ends.begin(), ends.end());
  train.insert(train.end(), stateArgs.begin(), stateArgs.end());
  train.push_back({"", "&step", {}, ""});
  train.push_back({"", "&learning_rate", {}, ""});
  train.insert(train.end(), ends.begin(), ends.end());

  std::string N = name;
  std::string predictSig = "float *const *weights, const float *x, "
                           "float *probabilities";
  std::string tail =
      absl::StrCat("const float *x, const int32_t *labels, ",
                   model.regression ? "const float *targets, " : "",
                   "float *loss, int64_t *correct");
  std::string evalSig = "float *const *weights, " + tail;
  std::string trainSig = "float *const *weights, float *const *state, int64_t "
                         "step, float learning_rate, " +
                         tail;

  // The header.
  std::string guard = absl::AsciiStrToUpper(N) + "_H";
  std::string h = absl::StrCat(
      "/* ", N, ".h: the model '", model.name,
      "' compiled ahead of time by gradc\n"
      " * (gradc compile --emit=lib). Link with -l",
      N,
      ".\n * Every array is float32 (labels int32), row-major (C order), and "
      "holds\n * exactly one batch: a smaller batch is padded (zero images; in "
      "the eval and\n * train steps, label -1 marks a padding row, left out "
      "of the loss, the\n * gradients and the count). Calls on the same "
      "weights must not overlap. */\n"
      "#ifndef ",
      guard, "\n#define ", guard,
      "\n\n#include <stdint.h>\n\n#ifdef __cplusplus\n"
      "extern \"C\" {\n#endif\n\n");
  absl::StrAppend(&h, "#define ", N, "_BATCH ", batch, "\n");
  absl::StrAppend(&h, "/* One example: ", dims(model.inputShape()),
                  " (height, width, channels), values as in training. */\n");
  absl::StrAppend(&h, "#define ", N, "_INPUT_SIZE ", elements(x) / batch,
                  "\n#define ", N, "_CLASSES ", width, "\n");
  absl::StrAppend(&h,
                  "/* Positions per example with a label and a row of "
                  "probabilities each: 1, or\n * a label per position of an "
                  "output [T..., CLASSES]; a padding example's\n * labels are "
                  "all -1. */\n#define ",
                  N, "_POSITIONS ", model.labelsPerExample(), "\n");
  absl::StrAppend(&h, "/* Weights: the parameters, then the buffers (running "
                      "statistics), as a\n * checkpoint names them: */\n");
  absl::StrAppend(&h, "#define ", N, "_NUM_WEIGHTS ", weights.size(), "\n");
  for (size_t i = 0; i < weights.size(); ++i)
    absl::StrAppend(&h, "/*   weights[", i, "]: ", weights[i]->name, " ",
                    dims(weights[i]->shape), " */\n");
  absl::StrAppend(&h,
                  "/* Optimizer state (train_step only), zero at the "
                  "start: */\n#define ",
                  N, "_NUM_STATE ", state.size(), "\n");
  for (size_t i = 0; i < state.size(); ++i)
    absl::StrAppend(&h, "/*   state[", i, "]: ", state[i]->name, " ",
                    dims(state[i]->shape), " */\n");
  absl::StrAppend(&h, "extern const char *const ", N,
                  "_weight_names[];\nextern const ", "int64_t ", N,
                  "_weight_sizes[]; /* elements of each */\nextern const ",
                  "char *const ", N, "_state_names[];\nextern const int64_t ",
                  N, "_state_sizes[];\n\n");
  absl::StrAppend(&h, "/* x: [", N, "_BATCH, ", N,
                  "_INPUT_SIZE]; probabilities: [", N, "_BATCH, ", N,
                  "_POSITIONS, ", N, "_CLASSES]; labels: [", N, "_BATCH, ", N,
                  "_POSITIONS]. */\nvoid ", N, "_predict(", predictSig, ");\n");
  absl::StrAppend(&h,
                  "/* Mean loss over the rows that count, and how many "
                  "of them the model gets\n * right. */\nvoid ",
                  N, "_eval_step(", evalSig, ");\n");
  absl::StrAppend(&h,
                  "/* One optimizer step at `step` (0 for the first): "
                  "updates weights and state\n * in place. */\nvoid ",
                  N, "_train_step(", trainSig, ");\n");
  absl::StrAppend(&h, "\n#ifdef __cplusplus\n}\n#endif\n\n#endif\n");

  // The wrappers.
  std::string c = absl::StrCat(
      "/* Generated by gradc: C wrappers of the compiled entry points. */\n"
      "#include \"",
      N, ".h\"\n\n");
  std::vector<std::string> names, sizes, stateNames, stateSizes;
  for (const Buffer *b : weights) {
    names.push_back(absl::StrCat("\"", b->name, "\""));
    sizes.push_back(absl::StrCat(elements(b->shape)));
  }
  for (const Buffer *b : state) {
    stateNames.push_back(absl::StrCat("\"", b->name, "\""));
    stateSizes.push_back(absl::StrCat(elements(b->shape)));
  }
  auto list = [](const std::vector<std::string> &v, const char *empty) {
    return v.empty() ? std::string(empty) : absl::StrJoin(v, ", ");
  };
  absl::StrAppend(&c, "const char *const ", N, "_weight_names[] = {",
                  list(names, "0"), "};\nconst int64_t ", N,
                  "_weight_sizes[] = {", list(sizes, "0"), "};\n");
  absl::StrAppend(&c, "const char *const ", N, "_state_names[] = {",
                  list(stateNames, "0"), "};\nconst int64_t ", N,
                  "_state_sizes[] = {", list(stateSizes, "0"), "};\n\n");
  absl::StrAppend(
      &c, "static void describe(int64_t *d, void *data, int rank,\n"
          "                     const int64_t *shape, const int64_t *strides) "
          "{\n  d[0] = d[1] = (int64_t)data;\n  d[2] = 0;\n  for (int i = 0; "
          "i < rank; ++i) {\n    d[3 + i] = shape[i];\n    d[3 + rank + i] = "
          "strides[i];\n  }\n}\n\n");
  for (const char *entry : {"predict", "eval_step", "train_step"})
    absl::StrAppend(&c, "extern void _mlir__mlir_ciface_", entry,
                    "(void **);\n");
  c += "\n";
  c += wrapper(N, "predict", predictSig, predict);
  c += wrapper(N, "eval_step", evalSig, eval);
  c += wrapper(N, "train_step", trainSig, train);

  // Link: objects and wrappers in a scratch directory, then cc -shared.
  llvm::SmallString<128> dir;
  if (std::error_code ec =
          llvm::sys::fs::createUniqueDirectory("gradc-lib", dir))
    return absl::UnavailableError(absl::StrCat(
        "gradc compile: error: cannot create a scratch directory: ",
        ec.message()));
  auto cleanup = [&] { llvm::sys::fs::remove_directories(dir); };
  std::vector<std::string> argv{"cc",  "-shared",     "-fPIC",
                                "-O2", "-I",          std::string(dir),
                                "-o",  options.output};
  auto put = [&](const std::string &fileName, const std::string &bytes) {
    std::string path = (dir + "/" + fileName).str();
    absl::Status s = writeFileAtomically(path, bytes, "scratch file");
    return std::make_pair(path, s);
  };
  // Only NAME_* is exported: two models' libraries can share a process.
  std::string exports =
      absl::StrCat("{\n  global: ", N, "_*;\n  local: *;\n};\n");
  std::vector<std::pair<std::string, std::string>> files{
      {N + ".h", h}, {N + "_wrappers.c", c}, {"exports.map", exports}};
  for (size_t i = 0; i < code->objects.size(); ++i)
    files.push_back({absl::StrCat(N, "_", i, ".o"), code->objects[i]});
  for (auto &[fileName, bytes] : files) {
    auto [path, s] = put(fileName, bytes);
    if (!s.ok()) {
      cleanup();
      return s;
    }
    if (fileName == "exports.map")
      argv.push_back("-Wl,--version-script=" + path);
    else if (!llvm::StringRef(fileName).ends_with(".h"))
      argv.push_back(path);
  }
  argv.push_back("-lm");
  if (options.threads > 1) {
    argv.push_back(absl::StrCat("-L", GRADC_OPENMP_DIR));
    argv.push_back(absl::StrCat("-Wl,-rpath,", GRADC_OPENMP_DIR));
    argv.push_back("-lomp");
  }
  absl::Status linked = runCompiler(argv);
  cleanup();
  if (!linked.ok())
    return linked;
  return writeFileAtomically(std::string(headerPath), h, "header");
}

} // namespace gradc
