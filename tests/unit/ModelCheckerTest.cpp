//===- ModelCheckerTest.cpp - model loading and checking tests ------------===//
//
// Parses model text in memory and checks what the user sees: the examples
// resolve to the right layer shapes and parameters; a bad model reports every
// problem, one "file:line:col: error: layer 'x': ..." line each, at the line
// of the offending part; syntax errors point into the file; binary .pb files
// load like text ones; and a checked model imports to a module that verifies.
//
//===----------------------------------------------------------------------===//

#include "frontend/ModelChecker.h"
#include "frontend/Importer.h"
#include "frontend/ModelBudget.h"
#include "frontend/ModelLoader.h"
#include "ir/NNDialect.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "google/protobuf/text_format.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Verifier.h"
#include "gtest/gtest.h"

#include <fstream>
#include <sstream>
#include <sys/stat.h>

using namespace gradc;

namespace {

const char *kPath = "model.pbtxt";

std::string readFile(const std::string &path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

std::string examplePath(const std::string &name) {
  return std::string(GRADC_SOURCE_DIR) + "/examples/" + name;
}

std::vector<std::string> lines(absl::string_view text) {
  return absl::StrSplit(text, '\n', absl::SkipEmpty());
}

/// A parsed and checked model; `file` outlives `model`, which points to it.
struct Checked {
  std::unique_ptr<ModelFile> file;
  absl::StatusOr<ResolvedModel> model = absl::UnknownError("not checked");

  std::vector<std::string> errors() const {
    return model.ok() ? std::vector<std::string>{}
                      : lines(model.status().message());
  }
};

Checked check(const std::string &text) {
  Checked c;
  auto file = parseModelText(text, kPath);
  EXPECT_TRUE(file.ok()) << file.status().message();
  if (!file.ok())
    return c;
  c.file = std::move(*file);
  c.model = checkModel(*c.file);
  return c;
}

/// The lines of a bad model's report; the model must fail.
std::vector<std::string> errorsOf(const std::string &text) {
  Checked c = check(text);
  EXPECT_FALSE(c.model.ok()) << "the model passed:\n" << text;
  return c.errors();
}

/// The one error line of a model with a single problem.
std::string errorOf(const std::string &text) {
  std::vector<std::string> errs = errorsOf(text);
  EXPECT_EQ(errs.size(), 1u) << testing::PrintToString(errs);
  return errs.empty() ? "" : errs[0];
}

std::string syntaxErrorOf(const std::string &text) {
  auto file = parseModelText(text, kPath);
  EXPECT_FALSE(file.ok());
  return file.ok() ? "" : std::string(file.status().message());
}

const ResolvedLayer *findLayer(const ResolvedModel &m,
                               const std::string &name) {
  for (const ResolvedLayer &l : m.layers)
    if (l.layer->name() == name)
      return &l;
  return nullptr;
}

const ParamSpec *findParam(const ResolvedModel &m, const std::string &name) {
  for (const ParamSpec &p : m.params)
    if (p.name == name)
      return &p;
  return nullptr;
}

using Shape = std::vector<int64_t>;

// A small valid model, one part per line, that the tests below break in one
// place at a time.
const char *kHeader = "name: \"t\"\n"
                      "input { name: \"image\" shape: [8, 8, 1] }\n";
const char *kTail = "loss { categorical_crossentropy {} }\n"
                    "optimizer { adam {} }\n"
                    "training { batch_size: 4 }\n";

std::string model(const std::string &layers, const std::string &tail = kTail) {
  return std::string(kHeader) + layers + tail;
}

const char *kOutput =
    "layer { name: \"out\" dense { units: 3 activation: SOFTMAX } }\n";

//===----------------------------------------------------------------------===//
// The examples
//===----------------------------------------------------------------------===//

TEST(CheckerExamples, FashionCnnResolves) {
  Checked c = check(readFile(examplePath("fashion_mnist_cnn.pbtxt")));
  ASSERT_TRUE(c.model.ok()) << c.model.status().message();
  const ResolvedModel &m = *c.model;
  EXPECT_EQ(m.name, "fashion_cnn");
  EXPECT_EQ(m.inputName, "image");
  EXPECT_EQ(m.inputShape, (Shape{28, 28, 1}));
  std::vector<std::pair<std::string, Shape>> shapes = {{"conv1", {26, 26, 32}},
                                                       {"pool1", {13, 13, 32}},
                                                       {"conv2", {11, 11, 64}},
                                                       {"pool2", {5, 5, 64}},
                                                       {"flat", {1600}},
                                                       {"drop", {1600}},
                                                       {"out", {10}}};
  ASSERT_EQ(m.layers.size(), shapes.size());
  for (size_t i = 0; i < shapes.size(); ++i) {
    EXPECT_EQ(m.layers[i].layer->name(), shapes[i].first);
    EXPECT_EQ(m.layers[i].shape, shapes[i].second) << shapes[i].first;
  }
  std::vector<std::pair<std::string, Shape>> params = {
      {"conv1.kernel", {3, 3, 1, 32}},  {"conv1.bias", {32}},
      {"conv2.kernel", {3, 3, 32, 64}}, {"conv2.bias", {64}},
      {"out.kernel", {1600, 10}},       {"out.bias", {10}}};
  ASSERT_EQ(m.params.size(), params.size());
  for (size_t i = 0; i < params.size(); ++i) {
    EXPECT_EQ(m.params[i].name, params[i].first);
    EXPECT_EQ(m.params[i].shape, params[i].second) << params[i].first;
  }
  EXPECT_EQ(m.params[0].fanIn, 9);
  EXPECT_EQ(m.params[0].fanOut, 9 * 32);
  EXPECT_EQ(findLayer(m, "conv1")->activation, RELU);
  EXPECT_EQ(findLayer(m, "out")->activation, SOFTMAX);
  EXPECT_EQ(findLayer(m, "drop")->attr("rate"), 0.5);
  EXPECT_EQ(findLayer(m, "pool1")->window.strides,
            (std::array<int64_t, 2>{2, 2}));
  EXPECT_EQ(m.lossKind, "cross_entropy");
  EXPECT_EQ(m.optimizer.kind, "adam");
  EXPECT_EQ(m.optimizer.learningRate, 0.001);
  EXPECT_EQ(m.batchSize, 128);
  EXPECT_EQ(m.epochs, 15);
  EXPECT_EQ(m.seed, 42);
  EXPECT_EQ(m.validationSplit, 0.1);
  EXPECT_EQ(m.dataDir, "/usr/share/datasets/fashion-mnist");
  EXPECT_EQ(m.numClasses(), 10);
}

TEST(CheckerExamples, LeNetResolves) {
  Checked c = check(readFile(examplePath("lenet.pbtxt")));
  ASSERT_TRUE(c.model.ok()) << c.model.status().message();
  const ResolvedModel &m = *c.model;
  EXPECT_EQ(findLayer(m, "conv1")->shape, (Shape{24, 24, 20}));
  EXPECT_EQ(findLayer(m, "pool1")->shape, (Shape{12, 12, 20}));
  EXPECT_EQ(findLayer(m, "conv2")->shape, (Shape{8, 8, 50}));
  EXPECT_EQ(findLayer(m, "pool2")->shape, (Shape{4, 4, 50}));
  EXPECT_EQ(findLayer(m, "flat")->shape, (Shape{800}));
  EXPECT_EQ(findLayer(m, "ip1")->shape, (Shape{500}));
  EXPECT_EQ(findLayer(m, "ip2")->shape, (Shape{10}));
  EXPECT_EQ(findLayer(m, "conv1")->activation, LINEAR);
  EXPECT_EQ(findParam(m, "conv1.kernel")->shape, (Shape{5, 5, 1, 20}));
  EXPECT_EQ(findParam(m, "conv2.kernel")->shape, (Shape{5, 5, 20, 50}));
  EXPECT_EQ(findParam(m, "ip1.kernel")->shape, (Shape{800, 500}));
  EXPECT_EQ(findParam(m, "ip2.kernel")->shape, (Shape{500, 10}));
  EXPECT_EQ(findParam(m, "ip2.bias")->shape, (Shape{10}));
  EXPECT_EQ(m.params.size(), 8u);
  EXPECT_EQ(m.optimizer.kind, "momentum");
  EXPECT_EQ(m.optimizer.learningRate, 0.01);
  EXPECT_EQ(m.optimizer.momentum, 0.9);
  EXPECT_EQ(m.optimizer.weightDecay, 5e-4);
  EXPECT_FALSE(m.optimizer.nesterov);
  EXPECT_EQ(m.batchSize, 64);
  EXPECT_EQ(m.seed, 7);
}

TEST(CheckerExamples, MlpResolves) {
  Checked c = check(readFile(examplePath("mnist_mlp.pbtxt")));
  ASSERT_TRUE(c.model.ok()) << c.model.status().message();
  const ResolvedModel &m = *c.model;
  EXPECT_EQ(findLayer(m, "flat")->shape, (Shape{784}));
  EXPECT_EQ(findLayer(m, "fc1")->shape, (Shape{128}));
  EXPECT_EQ(findLayer(m, "fc2")->shape, (Shape{64}));
  EXPECT_EQ(findParam(m, "fc1.kernel")->shape, (Shape{784, 128}));
  EXPECT_EQ(findParam(m, "fc2.kernel")->shape, (Shape{128, 64}));
  EXPECT_EQ(findParam(m, "out.kernel")->shape, (Shape{64, 10}));
  EXPECT_EQ(findParam(m, "out.bias")->shape, (Shape{10}));
  EXPECT_EQ(m.lossKind, "cross_entropy");
  EXPECT_EQ(m.outputShape(), (Shape{10}));
}

class ImportExample : public testing::TestWithParam<const char *> {};

TEST_P(ImportExample, ImportsAndVerifies) {
  mlir::MLIRContext ctx;
  ctx.loadDialect<gradc::nn::NNDialect, mlir::func::FuncDialect>();
  std::string path = examplePath(GetParam());
  auto module = importModelFile(ctx, path, /*batchSize=*/2);
  ASSERT_TRUE(module.ok()) << module.status().message();
  EXPECT_TRUE(mlir::succeeded(mlir::verify(**module)));
  auto predict = (*module)->lookupSymbol<mlir::func::FuncOp>("predict");
  ASSERT_TRUE(predict);
  auto input =
      llvm::cast<mlir::RankedTensorType>(predict.getArgumentTypes().back());
  EXPECT_EQ(input.getShape()[0], 2);
  auto result =
      llvm::cast<mlir::RankedTensorType>(predict.getResultTypes().front());
  EXPECT_EQ(result.getShape(), (llvm::ArrayRef<int64_t>{2, 10}));
  // Every op inside @predict points at its layer in the file.
  predict.walk([&](mlir::Operation *op) {
    if (op->getDialect()->getNamespace() != "nn")
      return;
    auto loc = llvm::dyn_cast<mlir::NameLoc>(op->getLoc());
    ASSERT_TRUE(loc) << "op without a layer name";
    auto fileLoc = llvm::dyn_cast<mlir::FileLineColLoc>(loc.getChildLoc());
    ASSERT_TRUE(fileLoc);
    EXPECT_EQ(fileLoc.getFilename().str(), path);
    EXPECT_GT(fileLoc.getLine(), 1u);
  });
}

INSTANTIATE_TEST_SUITE_P(CheckerExamples, ImportExample,
                         testing::Values("fashion_mnist_cnn.pbtxt",
                                         "lenet.pbtxt", "mnist_mlp.pbtxt"));

//===----------------------------------------------------------------------===//
// Shapes of the other layer kinds
//===----------------------------------------------------------------------===//

TEST(CheckerShapes, PaddingStridesAndDilations) {
  Checked c = check(model(
      "layer { name: \"c\" conv2d { filters: 4 kernel_size: [3, 3] strides: "
      "[2, 2] padding: SAME } }\n"
      "layer { name: \"p\" avg_pool2d { pool_size: [3, 3] strides: [1, 1] "
      "padding: SAME } }\n"
      "layer { name: \"d\" conv2d { filters: 2 kernel_size: [3, 3] "
      "dilations: [2, 2] pads: [1, 1, 1, 1] use_bias: false } }\n"
      "layer { name: \"m\" max_pool2d { pool_size: [2] } }\n"
      "layer { name: \"f\" flatten {} }\n" +
      std::string(kOutput)));
  ASSERT_TRUE(c.model.ok()) << c.model.status().message();
  const ResolvedModel &m = *c.model;
  // SAME with stride 2 on 8: ceil(8/2) = 4, the odd padding row at the end.
  EXPECT_EQ(findLayer(m, "c")->shape, (Shape{4, 4, 4}));
  EXPECT_EQ(findLayer(m, "c")->window.pads,
            (std::array<int64_t, 4>{0, 1, 0, 1}));
  EXPECT_EQ(findLayer(m, "p")->shape, (Shape{4, 4, 4}));
  EXPECT_EQ(findLayer(m, "p")->window.pads,
            (std::array<int64_t, 4>{1, 1, 1, 1}));
  // A 3x3 window with dilation 2 spans 5: (4 + 2 - 5) + 1 = 2.
  EXPECT_EQ(findLayer(m, "d")->shape, (Shape{2, 2, 2}));
  EXPECT_EQ(findParam(m, "d.kernel")->shape, (Shape{3, 3, 4, 2}));
  EXPECT_EQ(findParam(m, "d.bias"), nullptr);
  // One pool size is used for both axes and as the default stride.
  EXPECT_EQ(findLayer(m, "m")->window.size, (std::array<int64_t, 2>{2, 2}));
  EXPECT_EQ(findLayer(m, "m")->window.strides, (std::array<int64_t, 2>{2, 2}));
  EXPECT_EQ(findLayer(m, "m")->shape, (Shape{1, 1, 2}));
  EXPECT_EQ(findLayer(m, "f")->shape, (Shape{2}));
}

TEST(CheckerShapes, ResidualPreluAndDefaults) {
  Checked c =
      check("input { shape: [12] }\n"
            "layer { name: \"a\" dense { units: 12 activation: PRELU } }\n"
            "layer { name: \"b\" activation { kind: LEAKY_RELU alpha: 0.1 } }\n"
            "layer { name: \"r\" add {} inputs: [\"input\", \"b\"] }\n"
            "layer { name: \"s\" activation { kind: SIGMOID } }\n"
            "loss { binary_crossentropy {} }\n");
  ASSERT_TRUE(c.model.ok()) << c.model.status().message();
  const ResolvedModel &m = *c.model;
  EXPECT_EQ(m.name, "model");
  EXPECT_EQ(m.inputName, "input");
  EXPECT_EQ(findLayer(m, "r")->shape, (Shape{12}));
  EXPECT_EQ(findLayer(m, "r")->inputs, (std::vector<int>{-1, 1}));
  EXPECT_EQ(findLayer(m, "b")->alpha, 0.1);
  const ParamSpec *alpha = findParam(m, "a.alpha");
  ASSERT_NE(alpha, nullptr);
  EXPECT_EQ(alpha->shape, (Shape{12}));
  EXPECT_EQ(alpha->constant, 0.25f);
  EXPECT_EQ(m.lossKind, "binary_cross_entropy");
  // Defaults: adam, batch 32, one epoch, shuffled.
  EXPECT_EQ(m.optimizer.kind, "adam");
  EXPECT_EQ(m.optimizer.beta2, 0.999);
  EXPECT_EQ(m.batchSize, 32);
  EXPECT_EQ(m.epochs, 1);
  EXPECT_TRUE(m.shuffle);
}

TEST(CheckerShapes, ModernCnnLayers) {
  Checked c = check(model(
      "layer { name: \"c\" conv2d { filters: 6 kernel_size: [3, 3] } }\n"
      "layer { name: \"g\" conv2d { filters: 4 kernel_size: [1, 1] groups: 2 "
      "} }\n"
      "layer { name: \"bn\" batch_norm { scale: false } }\n"
      "layer { name: \"cat\" concat {} inputs: [\"c\", \"bn\"] }\n"
      "layer { name: \"gap\" global_max_pool2d {} }\n" +
      std::string(kOutput)));
  ASSERT_TRUE(c.model.ok()) << c.model.status().message();
  const ResolvedModel &m = *c.model;
  EXPECT_EQ(findLayer(m, "g")->attr("groups"), 2);
  EXPECT_EQ(findParam(m, "g.kernel")->shape, (Shape{1, 1, 3, 4}));
  EXPECT_EQ(findLayer(m, "cat")->shape, (Shape{6, 6, 10}));
  EXPECT_EQ(findLayer(m, "gap")->shape, (Shape{10}));
  // Keras's defaults; without scale there is no gamma.
  EXPECT_EQ(findLayer(m, "bn")->attr("momentum"), 0.99);
  EXPECT_EQ(findLayer(m, "bn")->attr("epsilon"), double(1e-3));
  EXPECT_EQ(findParam(m, "bn.gamma"), nullptr);
  ASSERT_NE(findParam(m, "bn.beta"), nullptr);
  ASSERT_EQ(m.buffers.size(), 2u);
  EXPECT_EQ(m.buffers[0].name, "bn.moving_mean");
  EXPECT_EQ(m.buffers[0].constant, 0.0f);
  EXPECT_EQ(m.buffers[1].name, "bn.moving_variance");
  EXPECT_EQ(m.buffers[1].constant, 1.0f);
}

TEST(CheckerShapes, ActivationSlopeDefaults) {
  // Keras's LeakyReLU slope 0.3 and PReLU's initial 0.25 when not given; an
  // explicit 0 is kept.
  Checked c = check(
      model("layer { name: \"a\" activation { kind: LEAKY_RELU } }\n"
            "layer { name: \"b\" activation { kind: LEAKY_RELU alpha: 0 } }\n"
            "layer { name: \"p\" activation { kind: PRELU } }\n"
            "layer { name: \"q\" activation { kind: PRELU alpha: 0 } }\n"
            "layer { name: \"f\" flatten {} }\n" +
            std::string(kOutput)));
  ASSERT_TRUE(c.model.ok()) << c.model.status().message();
  EXPECT_EQ(findLayer(*c.model, "a")->alpha, 0.3);
  EXPECT_EQ(findLayer(*c.model, "b")->alpha, 0.0);
  EXPECT_EQ(findParam(*c.model, "p.alpha")->constant, 0.25f);
  EXPECT_EQ(findParam(*c.model, "q.alpha")->constant, 0.0f);
}

TEST(CheckerShapes, ExplicitZerosAreKeptNotDefaulted) {
  // proto3 fields without `optional` cannot tell 0 from absent; these are
  // optional, so an explicit 0 is the user's value (valid or an error).
  std::string layers =
      "layer { name: \"f\" flatten {} }\n" + std::string(kOutput);
  auto with = [&](const std::string &optimizer, const std::string &training) {
    return model(layers, "loss { categorical_crossentropy {} }\n" + optimizer +
                             "\n" + training + "\n");
  };
  Checked m = check(with("optimizer { momentum { momentum: 0 } }",
                         "training { batch_size: 4 }"));
  ASSERT_TRUE(m.model.ok()) << m.model.status().message();
  EXPECT_EQ(m.model->optimizer.momentum, 0.0);
  Checked a = check(
      with("optimizer { adam { beta_1: 0 } }", "training { batch_size: 4 }"));
  ASSERT_TRUE(a.model.ok()) << a.model.status().message();
  EXPECT_EQ(a.model->optimizer.beta1, 0.0);
  EXPECT_EQ(a.model->optimizer.beta2, 0.999);
  std::string e = errorOf(with("optimizer { sgd { learning_rate: 0 } }",
                               "training { batch_size: 4 }"));
  EXPECT_NE(e.find("optimizer sgd: learning_rate must be positive, got 0"),
            std::string::npos)
      << e;
  e = errorOf(with("optimizer { adam {} }", "training { epochs: 0 }"));
  EXPECT_NE(e.find("epochs must be in [1, 1000000], got 0"), std::string::npos)
      << e;
  e = errorOf(with("optimizer { adam {} }", "training { batch_size: 0 }"));
  EXPECT_NE(e.find("batch_size must be in [1, 65536], got 0"),
            std::string::npos)
      << e;
}

TEST(CheckerShapes, LayersMayBeListedBeforeTheirInputs) {
  Checked c = check(model(
      "layer { name: \"f\" flatten {} inputs: [\"c\"] }\n"
      "layer { name: \"c\" conv2d { filters: 2 kernel_size: [3, 3] } "
      "inputs: [\"image\"] }\n"
      "layer { name: \"out\" dense { units: 3 activation: SOFTMAX } inputs: "
      "[\"f\"] }\n"));
  ASSERT_TRUE(c.model.ok()) << c.model.status().message();
  ASSERT_EQ(c.model->layers.size(), 3u);
  EXPECT_EQ(c.model->layers[0].layer->name(), "c");
  EXPECT_EQ(c.model->layers[1].layer->name(), "f");
  EXPECT_EQ(c.model->layers[2].layer->name(), "out");
  EXPECT_EQ(c.model->layers[1].shape, (Shape{72}));
}

//===----------------------------------------------------------------------===//
// Every checker message, at the line of the part at fault
//===----------------------------------------------------------------------===//

struct MessageCase {
  const char *what;
  std::string text;
  const char *prefix;  // "model.pbtxt:3:1: error: layer 'c': ..."
  const char *message; // found after the prefix
};

std::string layerLine(const std::string &layer) {
  return model(layer + "layer { name: \"f\" flatten {} }\n" + kOutput);
}

std::vector<MessageCase> messageCases() {
  const char *L3 = "model.pbtxt:3:1: error: layer 'c': ";
  return {
      {"duplicate names",
       model("layer { name: \"f\" flatten {} }\n"
             "layer { name: \"f\" dense { units: 3 activation: SOFTMAX } }\n"),
       "model.pbtxt:4:1: error: layer 'f': ",
       "duplicate layer name (first defined as layer #1)"},
      {"layer named like the input",
       model("layer { name: \"image\" flatten {} }\n" + std::string(kOutput)),
       "model.pbtxt:3:1: error: layer 'image': ", "has the name of the input"},
      {"no name", model("layer { flatten {} }\n" + std::string(kOutput)),
       "model.pbtxt:3:1: error: layer #1: ", "has no name"},
      {"unknown input",
       model("layer { name: \"f\" flatten {} inputs: [\"nope\"] }\n" +
             std::string(kOutput)),
       "model.pbtxt:3:1: error: layer 'f': ", "unknown input 'nope'"},
      {"cycle",
       model("layer { name: \"a\" flatten {} inputs: [\"out\"] }\n"
             "layer { name: \"out\" dense { units: 3 activation: SOFTMAX } } "
             "\n"),
       "model.pbtxt:3:1: error: layer 'a': ", "cycle through a -> out -> a"},
      {"self loop",
       model("layer { name: \"f\" flatten {} }\n"
             "layer { name: \"out\" dense { units: 3 activation: SOFTMAX } "
             "inputs: [\"out\"] }\n"),
       "model.pbtxt:4:1: error: layer 'out': ", "cycle through out -> out"},
      {"no kind", model("layer { name: \"f\" }\n" + std::string(kOutput)),
       "model.pbtxt:3:1: error: layer 'f': ",
       "has no layer kind (conv2d, dense, ...)"},
      {"zero filters",
       layerLine("layer { name: \"c\" conv2d { filters: 0 kernel_size: [3, 3] "
                 "} }\n"),
       L3, "filters must be in [1, 1048576], got 0"},
      {"conv groups",
       layerLine("layer { name: \"c\" conv2d { filters: 4 kernel_size: [3, 3] "
                 "groups: 3 } }\n"),
       L3,
       "groups 3 must be positive and divide both the input channels 1 and "
       "the filters 4"},
      {"batch norm momentum",
       layerLine("layer { name: \"c\" batch_norm { momentum: 1.5 } }\n"), L3,
       "batch_norm momentum must be in [0, 1), got 1.5"},
      {"batch norm epsilon",
       layerLine("layer { name: \"c\" batch_norm { epsilon: nan } }\n"), L3,
       "batch_norm epsilon must be positive, got nan"},
      {"global pool of features",
       model("layer { name: \"f\" flatten {} }\n"
             "layer { name: \"c\" global_avg_pool2d {} }\n" +
             std::string(kOutput)),
       "model.pbtxt:4:1: error: layer 'c': ",
       "global pooling expects an [H, W, C] input, got [64]"},
      {"concat of one input", layerLine("layer { name: \"c\" concat {} }\n"),
       L3, "concat expects at least 2 inputs, got 1"},
      {"concat of different sizes",
       layerLine("layer { name: \"p\" max_pool2d { pool_size: [2, 2] } }\n"
                 "layer { name: \"c\" concat {} inputs: [\"image\", "
                 "\"p\"] }\n"),
       "model.pbtxt:4:1: error: layer 'c': ",
       "concat expects inputs that agree except in channels, got [8, 8, 1] "
       "and [4, 4, 1]"},
      {"negative units",
       model("layer { name: \"f\" flatten {} }\n"
             "layer { name: \"out\" dense { units: -3 activation: SOFTMAX } "
             "}\n"),
       "model.pbtxt:4:1: error: layer 'out': ",
       "units must be in [1, 1048576], got -3"},
      {"zero kernel size",
       layerLine("layer { name: \"c\" conv2d { filters: 2 kernel_size: [3, 0] "
                 "} }\n"),
       L3, "kernel_size must be in [1, 1048576], got 0"},
      {"three kernel sizes",
       layerLine("layer { name: \"c\" conv2d { filters: 2 kernel_size: [3, 3, "
                 "3] } }\n"),
       L3, "kernel_size expects 1 or 2 values, got 3"},
      {"no kernel size",
       layerLine("layer { name: \"c\" conv2d { filters: 2 } }\n"), L3,
       "needs kernel_size"},
      {"no pool size", layerLine("layer { name: \"c\" max_pool2d { } }\n"), L3,
       "needs pool_size"},
      {"negative stride",
       layerLine("layer { name: \"c\" max_pool2d { pool_size: [2, 2] strides: "
                 "[-1] } }\n"),
       L3, "strides must be in [1, 1048576], got -1"},
      {"huge dilation",
       layerLine("layer { name: \"c\" conv2d { filters: 2 kernel_size: [3] "
                 "dilations: [1, 9223372036854775807] } }\n"),
       L3, "dilations must be in [1, 1048576], got 9223372036854775807"},
      {"three pads",
       layerLine("layer { name: \"c\" conv2d { filters: 2 kernel_size: [3] "
                 "pads: [1, 1, 1] } }\n"),
       L3, "pads expects [top, bottom, left, right], got 3 values"},
      {"negative pad",
       layerLine("layer { name: \"c\" conv2d { filters: 2 kernel_size: [3] "
                 "pads: [1, 1, -1, 1] } }\n"),
       L3, "pads must be in [0, 1048576], got -1"},
      {"pool pad as large as the window",
       layerLine("layer { name: \"c\" avg_pool2d { pool_size: [2, 2] pads: "
                 "[0, 2, 0, 0] } }\n"),
       L3, "padding 2 must be smaller than the pool window 2x2"},
      {"unknown padding",
       layerLine("layer { name: \"c\" conv2d { filters: 2 kernel_size: [3] "
                 "padding: 7 } }\n"),
       L3, "unknown padding 7"},
      {"window not fitting",
       layerLine("layer { name: \"c\" conv2d { filters: 2 kernel_size: [9, 9] "
                 "} }\n"),
       L3,
       "expects window 9x9 (dilation 1x1) to fit input 8x8 (padding "
       "0,0,0,0)"},
      {"dilated window not fitting",
       layerLine("layer { name: \"c\" conv2d { filters: 2 kernel_size: [3, 3] "
                 "dilations: [4, 4] } }\n"),
       L3,
       "expects window 3x3 (dilation 4x4) to fit input 8x8 (padding "
       "0,0,0,0)"},
      {"conv on a 2-D input",
       model("layer { name: \"f\" flatten {} }\n"
             "layer { name: \"c\" conv2d { filters: 2 kernel_size: [3, 3] } "
             "}\n" +
             std::string(kOutput)),
       "model.pbtxt:4:1: error: layer 'c': ",
       "expects a 4-D input [N, H, W, C], got [N, 64]"},
      {"dense on a 4-D input", model(kOutput),
       "model.pbtxt:3:1: error: layer 'out': ",
       "dense expects a 2-D input [N, features], got a 4-D input [N, 8, 8, "
       "1]; add a flatten layer before it"},
      {"dense with two inputs",
       model("layer { name: \"f\" flatten {} }\n"
             "layer { name: \"out\" dense { units: 3 activation: SOFTMAX } "
             "inputs: [\"f\", \"f\"] }\n"),
       "model.pbtxt:4:1: error: layer 'out': ", "expects one input, got 2"},
      {"add of one input",
       model("layer { name: \"f\" flatten {} }\n"
             "layer { name: \"a\" add {} }\n" +
             std::string(kOutput)),
       "model.pbtxt:4:1: error: layer 'a': ",
       "add expects at least 2 inputs, got 1"},
      {"add shape mismatch",
       model("layer { name: \"f\" flatten {} }\n"
             "layer { name: \"a\" add {} inputs: [\"f\", \"image\"] }\n" +
             std::string(kOutput)),
       "model.pbtxt:4:1: error: layer 'a': ",
       "add expects inputs of one shape, got [64] and [8, 8, 1]"},
      {"unknown activation",
       model("layer { name: \"f\" flatten {} }\n"
             "layer { name: \"out\" dense { units: 3 activation: 42 } }\n"),
       "model.pbtxt:4:1: error: layer 'out': ", "unknown activation 42"},
      {"leaky relu alpha",
       model(
           "layer { name: \"f\" flatten {} }\n"
           "layer { name: \"a\" activation { kind: LEAKY_RELU alpha: 1 } }\n" +
           std::string(kOutput)),
       "model.pbtxt:4:1: error: layer 'a': ",
       "leaky ReLU alpha must be in [0, 1), got 1"},
      {"dropout rate",
       model("layer { name: \"f\" flatten {} }\n"
             "layer { name: \"d\" dropout { rate: 1.5 } }\n" +
             std::string(kOutput)),
       "model.pbtxt:4:1: error: layer 'd': ",
       "dropout rate must be in [0, 1), got 1.5"},
      {"uniform initializer not finite",
       model("layer { name: \"f\" flatten {} }\n"
             "layer { name: \"out\" dense { units: 3 activation: SOFTMAX "
             "kernel_initializer { "
             "uniform { minval: nan maxval: 1 } } } }\n"),
       "model.pbtxt:4:1: error: layer 'out': ",
       "kernel initializer uniform needs finite minval <= maxval, got [nan, "
       "1]"},
      {"uniform initializer reversed",
       model("layer { name: \"f\" flatten {} }\n"
             "layer { name: \"out\" dense { units: 3 activation: SOFTMAX "
             "bias_initializer { "
             "uniform { minval: 1 maxval: -1 } } } }\n"),
       "model.pbtxt:4:1: error: layer 'out': ",
       "bias initializer uniform needs finite minval <= maxval, got [1, -1]"},
      {"normal initializer",
       model("layer { name: \"f\" flatten {} }\n"
             "layer { name: \"out\" dense { units: 3 activation: SOFTMAX "
             "kernel_initializer { "
             "normal { mean: 0 stddev: inf } } } }\n"),
       "model.pbtxt:4:1: error: layer 'out': ",
       "kernel initializer normal needs a finite mean and a finite stddev >= "
       "0, got mean 0, stddev inf"},
      {"unused layer",
       model("layer { name: \"side\" flatten {} }\n"
             "layer { name: \"f\" flatten {} inputs: [\"image\"] }\n" +
             std::string(kOutput)),
       "model.pbtxt:3:1: error: layer 'side': ",
       "is not used by the output layer 'out'"},
      {"no input",
       "name: \"t\"\n" + std::string("layer { name: \"f\" flatten {} }\n") +
           kOutput + kTail,
       "model.pbtxt:1:1: error: ", "expects exactly one input, got 0"},
      {"two inputs",
       model("input { name: \"x\" shape: [3] }\n"
             "layer { name: \"f\" flatten {} }\n" +
             std::string(kOutput)),
       "model.pbtxt:1:1: error: ", "expects exactly one input, got 2"},
      {"input of 4 dimensions",
       "input { name: \"image\" shape: [1, 8, 8, 1] }\n" +
           std::string("layer { name: \"f\" flatten {} }\n") + kOutput + kTail,
       "model.pbtxt:1:1: error: ",
       "input 'image': expects a shape of [features], [rows, features] or "
       "[height, width, channels], got 4 dimensions"},
      {"input size zero",
       "input { name: \"image\" shape: [8, 0, 1] }\n" +
           std::string("layer { name: \"f\" flatten {} }\n") + kOutput + kTail,
       "model.pbtxt:1:1: error: ",
       "input 'image': size 0 is out of range [1, 1048576]"},
      {"input too large",
       "input { name: \"image\" shape: [1048576, 1048576, 1] }\n" +
           std::string("layer { name: \"f\" flatten {} }\n") + kOutput + kTail,
       "model.pbtxt:1:1: error: ",
       "input 'image': 1099511627776 elements is too large"},
      {"no layers", std::string(kHeader) + kTail,
       "model.pbtxt:1:1: error: ", "expects at least one layer"},
      {"missing loss",
       model("layer { name: \"f\" flatten {} }\n" + std::string(kOutput), ""),
       "model.pbtxt:1:1: error: ", "expects a loss { ... }"},
      {"loss on a 4-D output",
       model("layer { name: \"c\" conv2d { filters: 2 kernel_size: [3] } }\n"),
       "model.pbtxt:4:1: error: ",
       "loss cross_entropy on output layer 'c' expects a 2-D output [N, "
       "classes], got [N, 6, 6, 2]"},
      {"cross entropy without softmax",
       model("layer { name: \"f\" flatten {} }\n"
             "layer { name: \"out\" dense { units: 3 } }\n"),
       "model.pbtxt:5:1: error: ",
       "loss cross_entropy on output layer 'out' expects probabilities: end "
       "the output layer with activation: SOFTMAX"},
      {"cross entropy with one class",
       model("layer { name: \"f\" flatten {} }\n"
             "layer { name: \"out\" dense { units: 1 activation: SOFTMAX } "
             "}\n"),
       "model.pbtxt:5:1: error: ",
       "loss cross_entropy on output layer 'out' expects at least 2 classes, "
       "got 1"},
      {"binary cross entropy without sigmoid",
       model("layer { name: \"f\" flatten {} }\n"
             "layer { name: \"out\" dense { units: 1 activation: RELU } }\n",
             "loss { binary_crossentropy {} }\n"),
       "model.pbtxt:5:1: error: ",
       "loss binary_cross_entropy on output layer 'out' expects "
       "probabilities: end the output layer with activation: SIGMOID or "
       "SOFTMAX"},
      {"huber delta",
       model("layer { name: \"f\" flatten {} }\n"
             "layer { name: \"out\" dense { units: 1 } }\n",
             "loss { huber { delta: -2 } }\n"),
       "model.pbtxt:5:1: error: ", "huber delta must be positive, got -2"},
      {"learning rate",
       model("layer { name: \"f\" flatten {} }\n" + std::string(kOutput),
             "loss { mse {} }\noptimizer { sgd { learning_rate: -0.1 } }\n"),
       "model.pbtxt:6:1: error: ",
       "optimizer sgd: learning_rate must be positive, got -0.1"},
      {"weight decay",
       model("layer { name: \"f\" flatten {} }\n" + std::string(kOutput),
             "loss { mse {} }\noptimizer { sgd { weight_decay: -1 } }\n"),
       "model.pbtxt:6:1: error: ",
       "optimizer sgd: weight_decay must be >= 0, got -1"},
      {"momentum",
       model("layer { name: \"f\" flatten {} }\n" + std::string(kOutput),
             "loss { mse {} }\noptimizer { momentum { momentum: 1 } }\n"),
       "model.pbtxt:6:1: error: ",
       "optimizer momentum: momentum must be in [0, 1), got 1"},
      {"rho",
       model("layer { name: \"f\" flatten {} }\n" + std::string(kOutput),
             "loss { mse {} }\noptimizer { rmsprop { rho: 1.5 } }\n"),
       "model.pbtxt:6:1: error: ",
       "optimizer rmsprop: rho must be in (0, 1), got 1.5"},
      {"beta_1",
       model("layer { name: \"f\" flatten {} }\n" + std::string(kOutput),
             "loss { mse {} }\noptimizer { adam { beta_1: -0.5 } }\n"),
       "model.pbtxt:6:1: error: ",
       "optimizer adam: beta_1 must be in [0, 1), got -0.5"},
      {"beta_2",
       model("layer { name: \"f\" flatten {} }\n" + std::string(kOutput),
             "loss { mse {} }\noptimizer { adam { beta_2: 1 } }\n"),
       "model.pbtxt:6:1: error: ",
       "optimizer adam: beta_2 must be in [0, 1), got 1"},
      {"epsilon",
       model("layer { name: \"f\" flatten {} }\n" + std::string(kOutput),
             "loss { mse {} }\noptimizer { adam { epsilon: -1e-8 } }\n"),
       "model.pbtxt:6:1: error: ",
       "optimizer adam: epsilon must be positive, got -1e-08"},
      {"learning rate nan",
       model("layer { name: \"f\" flatten {} }\n" + std::string(kOutput),
             "loss { mse {} }\noptimizer { adam { learning_rate: nan } }\n"),
       "model.pbtxt:6:1: error: ",
       "optimizer adam: learning_rate must be positive, got nan"},
      {"batch size",
       model("layer { name: \"f\" flatten {} }\n" + std::string(kOutput),
             "loss { mse {} }\ntraining { batch_size: -4 }\n"),
       "model.pbtxt:6:1: error: ", "batch_size must be in [1, 65536], got -4"},
      {"epochs",
       model("layer { name: \"f\" flatten {} }\n" + std::string(kOutput),
             "loss { mse {} }\ntraining { epochs: 1000001 }\n"),
       "model.pbtxt:6:1: error: ",
       "epochs must be in [1, 1000000], got 1000001"},
      {"validation split",
       model("layer { name: \"f\" flatten {} }\n" + std::string(kOutput),
             "loss { mse {} }\ntraining { validation_split: 1 }\n"),
       "model.pbtxt:6:1: error: ", "validation_split must be in [0, 1), got 1"},
  };
}

class CheckerMessage : public testing::TestWithParam<MessageCase> {};

TEST_P(CheckerMessage, IsReportedAtItsLine) {
  const MessageCase &c = GetParam();
  std::string err = errorOf(c.text);
  EXPECT_EQ(err, std::string(c.prefix) + c.message) << c.what;
}

INSTANTIATE_TEST_SUITE_P(Checker, CheckerMessage,
                         testing::ValuesIn(messageCases()),
                         [](const testing::TestParamInfo<MessageCase> &info) {
                           std::string name;
                           for (const char *p = info.param.what; *p; ++p)
                             name +=
                                 std::isalnum(static_cast<unsigned char>(*p))
                                     ? *p
                                     : '_';
                           return name;
                         });

//===----------------------------------------------------------------------===//
// Collecting every problem
//===----------------------------------------------------------------------===//

TEST(CheckerCollect, ReportsEveryIndependentProblem) {
  std::string text = "name: \"broken\"\n"                           // 1
                     "input { name: \"image\" shape: [8, 8, 1] }\n" // 2
                     "layer { name: \"c\" conv2d { filters: 0 kernel_size: "
                     "[3] } inputs: [\"image\"] }\n" // 3
                     "layer { name: \"p\" max_pool2d { pool_size: [9, 9] } "
                     "inputs: [\"image\"] }\n" // 4
                     "layer { name: \"d\" dense { units: 3 } inputs: "
                     "[\"image\"] }\n" // 5
                     "layer { name: \"f\" flatten {} inputs: [\"image\"] }\n"
                     // 6
                     "layer { name: \"a\" add {} inputs: [\"f\", \"image\"] "
                     "}\n" // 7
                     "layer { name: \"drop\" dropout { rate: -0.5 } inputs: "
                     "[\"f\"] }\n" // 8
                     "layer { name: \"out\" dense { units: 10 activation: "
                     "SOFTMAX } inputs: [\"f\"] }\n"          // 9
                     "loss { categorical_crossentropy {} }\n" // 10
                     "optimizer { momentum { momentum: 2 learning_rate: -1 "
                     "} }\n"                                         // 11
                     "training { batch_size: 100000 epochs: -1 }\n"; // 12
  std::vector<std::string> errs = errorsOf(text);
  std::vector<std::string> expected = {
      "model.pbtxt:3:1: error: layer 'c': filters must be in [1, 1048576], "
      "got 0",
      "model.pbtxt:4:1: error: layer 'p': expects window 9x9 (dilation 1x1) "
      "to fit input 8x8 (padding 0,0,0,0)",
      "model.pbtxt:5:1: error: layer 'd': dense expects a 2-D input [N, "
      "features], got a 4-D input [N, 8, 8, 1]; add a flatten layer before "
      "it",
      "model.pbtxt:7:1: error: layer 'a': add expects inputs of one shape, "
      "got [64] and [8, 8, 1]",
      "model.pbtxt:8:1: error: layer 'drop': dropout rate must be in [0, 1), "
      "got -0.5",
      "model.pbtxt:11:1: error: optimizer momentum: learning_rate must be "
      "positive, got -1",
      "model.pbtxt:11:1: error: optimizer momentum: momentum must be in [0, "
      "1), got 2",
      "model.pbtxt:12:1: error: batch_size must be in [1, 65536], got 100000",
      "model.pbtxt:12:1: error: epochs must be in [1, 1000000], got -1",
  };
  // Layer errors come in topological order; compare as sets of lines.
  std::sort(errs.begin(), errs.end());
  std::sort(expected.begin(), expected.end());
  EXPECT_EQ(errs, expected);
}

TEST(CheckerCollect, NameErrorsAreAllReported) {
  std::vector<std::string> errs = errorsOf(
      model("layer { name: \"f\" flatten {} }\n"                        // 3
            "layer { name: \"f\" flatten {} }\n"                        // 4
            "layer { flatten {} }\n"                                    // 5
            "layer { name: \"g\" flatten {} inputs: [\"x\", \"y\"] }\n" // 6
            + std::string(kOutput)));
  std::vector<std::string> expected = {
      "model.pbtxt:4:1: error: layer 'f': duplicate layer name (first "
      "defined as layer #1)",
      "model.pbtxt:5:1: error: layer #3: has no name",
      "model.pbtxt:6:1: error: layer 'g': unknown input 'x'",
      "model.pbtxt:6:1: error: layer 'g': unknown input 'y'",
  };
  EXPECT_EQ(errs, expected);
}

TEST(CheckerCollect, AFailedLayerDoesNotCascade) {
  // Only the bad conv is reported, not the flatten and dense that use it.
  std::vector<std::string> errs = errorsOf(layerLine(
      "layer { name: \"c\" conv2d { filters: 2 kernel_size: [99] } }\n"));
  ASSERT_EQ(errs.size(), 1u) << testing::PrintToString(errs);
  EXPECT_EQ(errs[0].rfind("model.pbtxt:3:1: error: layer 'c': ", 0), 0u);
}

TEST(CheckerCollect, LayerAfterTheOutput) {
  std::vector<std::string> errs = errorsOf(
      "input { name: \"x\" shape: [4] }\n"
      "layer { name: \"a\" activation { kind: RELU } inputs: [\"out\"] }\n"
      "layer { name: \"out\" dense { units: 2 } inputs: [\"x\"] }\n"
      "loss { mse {} }\n");
  std::vector<std::string> expected = {
      "model.pbtxt:2:1: error: layer 'a': is not used by the output layer "
      "'out'",
      "model.pbtxt:3:1: error: layer 'out': the output layer must be the last "
      "layer computed"};
  EXPECT_EQ(errs, expected);
}

TEST(CheckerCollect, NamesWithNewlinesStayOnOneLine) {
  std::vector<std::string> errs =
      errorsOf(model("layer { name: \"two\\nlines\" flatten {} inputs: "
                     "[\"a\\rb\"] }\n" +
                     std::string(kOutput)));
  std::vector<std::string> expected = {
      "model.pbtxt:3:1: error: layer 'two\\nlines': unknown input 'a\\rb'"};
  EXPECT_EQ(errs, expected);
}

TEST(CheckerCollect, LocationsFollowTheTextLayout) {
  // Layers indented and spread over lines: the location is where `layer`
  // starts.
  std::string text = std::string(kHeader) +
                     "\n"
                     "  layer {\n"
                     "    name: \"f\" flatten {}\n"
                     "  }\n"
                     "   layer { name: \"out\" dense { units: 0 } }\n" +
                     kTail;
  EXPECT_EQ(errorOf(text), "model.pbtxt:7:4: error: layer 'out': units must "
                           "be in [1, 1048576], got 0");
}

//===----------------------------------------------------------------------===//
// Syntax errors
//===----------------------------------------------------------------------===//

TEST(CheckerSyntax, ErrorsPointIntoTheFile) {
  std::string err = syntaxErrorOf(std::string(kHeader) +
                                  "layer { name: \"f\" flatten {} \n" + kTail);
  EXPECT_EQ(err.rfind("model.pbtxt:", 0), 0u) << err;
  EXPECT_NE(err.find(": error: "), std::string::npos) << err;
  EXPECT_EQ(lines(err).size(), 1u) << err;
}

TEST(CheckerSyntax, UnknownFieldNamesTheField) {
  std::string err =
      syntaxErrorOf(model("layer { name: \"f\" flatten {} colour: 3 }\n"));
  EXPECT_EQ(err.rfind("model.pbtxt:3:", 0), 0u) << err;
  EXPECT_NE(err.find("colour"), std::string::npos) << err;
}

TEST(CheckerSyntax, UnknownEnumValueNamesTheValue) {
  std::string err = syntaxErrorOf(
      model("layer { name: \"f\" flatten {} }\n"
            "layer { name: \"o\" dense { units: 3 activation: SOFTMAXX } }\n"));
  EXPECT_EQ(err.rfind("model.pbtxt:4:", 0), 0u) << err;
  EXPECT_NE(err.find("SOFTMAXX"), std::string::npos) << err;
}

TEST(CheckerSyntax, ValueOutOfRange) {
  std::string err = syntaxErrorOf(model(
      "layer { name: \"c\" conv2d { filters: 99999999999999999999 } }\n"));
  EXPECT_EQ(err.rfind("model.pbtxt:3:", 0), 0u) << err;
}

TEST(CheckerSyntax, WrongTypeAndUnterminatedString) {
  for (const char *text :
       {"name: 3\n", "input { shape: [\"a\"] }\n", "name: \"unterminated\n",
        "layer { name: \"a\" conv2d { filters: 1.5 } }\n", "}\n", "layer {"}) {
    std::string err = syntaxErrorOf(text);
    EXPECT_EQ(err.rfind("model.pbtxt:1:", 0), 0u) << text << " -> " << err;
  }
}

TEST(CheckerSyntax, EmptyFileIsAModelWithoutParts) {
  std::vector<std::string> errs = errorsOf("");
  std::vector<std::string> expected = {
      "model.pbtxt:1:1: error: expects exactly one input, got 0",
      "model.pbtxt:1:1: error: expects at least one layer",
      "model.pbtxt:1:1: error: expects a loss { ... }"};
  EXPECT_EQ(errs, expected);
}

//===----------------------------------------------------------------------===//
// Binary files
//===----------------------------------------------------------------------===//

std::string tempPath(const std::string &name) {
  return testing::TempDir() + "/gradc_checker_" + name;
}

TEST(CheckerBinary, RoundTripsAnExample) {
  Checked text = check(readFile(examplePath("lenet.pbtxt")));
  ASSERT_TRUE(text.model.ok());
  std::string path = tempPath("lenet.pb");
  {
    std::ofstream out(path, std::ios::binary);
    ASSERT_TRUE(text.file->model.SerializeToOstream(&out));
  }
  auto file = loadModelFile(path);
  ASSERT_TRUE(file.ok()) << file.status().message();
  EXPECT_EQ((*file)->path, path);
  EXPECT_EQ((*file)->model.SerializeAsString(),
            text.file->model.SerializeAsString());
  auto binary = checkModel(**file);
  ASSERT_TRUE(binary.ok()) << binary.status().message();
  ASSERT_EQ(binary->layers.size(), text.model->layers.size());
  for (size_t i = 0; i < binary->layers.size(); ++i)
    EXPECT_EQ(binary->layers[i].shape, text.model->layers[i].shape);
  ASSERT_EQ(binary->params.size(), text.model->params.size());
  for (size_t i = 0; i < binary->params.size(); ++i)
    EXPECT_EQ(binary->params[i].shape, text.model->params[i].shape);

  mlir::MLIRContext ctx;
  ctx.loadDialect<gradc::nn::NNDialect, mlir::func::FuncDialect>();
  auto module = importModelFile(ctx, path, 2);
  ASSERT_TRUE(module.ok()) << module.status().message();
  EXPECT_TRUE(mlir::succeeded(mlir::verify(**module)));
  std::remove(path.c_str());
}

TEST(CheckerBinary, ErrorsNameTheFileWithoutALine) {
  Checked text = check(
      model("layer { name: \"c\" conv2d { filters: 2 kernel_size: [99] } }\n"
            "layer { name: \"out\" dense { units: 3 activation: SOFTMAX } "
            "inputs: [\"image\"] }\n"));
  ASSERT_NE(text.file, nullptr);
  std::string path = tempPath("bad.pb");
  {
    std::ofstream out(path, std::ios::binary);
    ASSERT_TRUE(text.file->model.SerializeToOstream(&out));
  }
  auto file = loadModelFile(path);
  ASSERT_TRUE(file.ok()) << file.status().message();
  auto checked = checkModel(**file);
  ASSERT_FALSE(checked.ok());
  std::vector<std::string> errs = lines(checked.status().message());
  ASSERT_EQ(errs.size(), 2u) << checked.status().message();
  EXPECT_EQ(errs[0], path + ": error: layer 'c': expects window 99x99 "
                            "(dilation 1x1) to fit input 8x8 (padding "
                            "0,0,0,0)");
  EXPECT_EQ(errs[1], path + ": error: layer 'out': dense expects a 2-D input "
                            "[N, features], got a 4-D input [N, 8, 8, 1]; add "
                            "a flatten layer before it");
  std::remove(path.c_str());
}

TEST(CheckerBinary, GarbageIsRejected) {
  std::string path = tempPath("garbage.pb");
  {
    std::ofstream out(path, std::ios::binary);
    out << "\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff";
  }
  auto file = loadModelFile(path);
  ASSERT_FALSE(file.ok());
  // Where parsing stopped: the first tag, a varint of 0xff bytes, never
  // ends.
  EXPECT_EQ(file.status().message(),
            path + ": error: not a binary gradc model (protobuf parsing "
                   "stopped at byte 11 of 11: the file ends inside a field, "
                   "truncated?)");
  std::remove(path.c_str());
}

TEST(CheckerFiles, MissingFile) {
  auto file = loadModelFile(tempPath("does_not_exist.pbtxt"));
  ASSERT_FALSE(file.ok());
  EXPECT_EQ(file.status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(file.status().message(),
            tempPath("does_not_exist.pbtxt") +
                ": error: cannot open model file: No such file or directory");
}

TEST(CheckerFiles, OnlyRegularFilesAreRead) {
  // A FIFO without a writer, a device that never ends and a directory are
  // refused at once, without blocking or reading.
  std::string fifo = tempPath("model_fifo.pbtxt");
  std::remove(fifo.c_str());
  ASSERT_EQ(mkfifo(fifo.c_str(), 0600), 0);
  auto f = loadModelFile(fifo);
  ASSERT_FALSE(f.ok());
  EXPECT_EQ(f.status().message(),
            fifo + ": error: model file is a FIFO, expected a regular file");
  std::remove(fifo.c_str());
  auto zero = loadModelFile("/dev/zero");
  ASSERT_FALSE(zero.ok());
  EXPECT_EQ(
      zero.status().message(),
      "/dev/zero: error: model file is a device, expected a regular file");
  auto dir = loadModelFile(testing::TempDir());
  ASSERT_FALSE(dir.ok());
  EXPECT_NE(dir.status().message().find("model file is a directory"),
            std::string::npos);
}

TEST(CheckerFiles, TextFileKeepsLocations) {
  auto file = loadModelFile(examplePath("fashion_mnist_cnn.pbtxt"));
  ASSERT_TRUE(file.ok()) << file.status().message();
  ASSERT_EQ((*file)->layerLocs.size(), 7u);
  EXPECT_EQ((*file)->inputLocs[0].line, 3);
  EXPECT_EQ((*file)->layerLocs[0].line, 4);
  EXPECT_EQ((*file)->layerLocs[6].line, 10);
  EXPECT_EQ((*file)->lossLoc.line, 11);
  EXPECT_EQ((*file)->optimizerLoc.line, 12);
  EXPECT_EQ((*file)->trainingLoc.line, 13);
  EXPECT_EQ((*file)->dataLoc.line, 14);
}

//===----------------------------------------------------------------------===//
// Limits: sizes that would overflow int64 or allocate absurd buffers, and
// models too big for a recursive walk
//===----------------------------------------------------------------------===//

TEST(CheckerLimits, HugeConvOutputIsRejected) {
  // 3*2^20 x (2^21+64) x 2^20 elements per example: more than int64 holds
  // once flattened.
  std::string err = errorOf(
      "input { name: \"image\" shape: [1048576, 64, 1] }\n"
      "layer { name: \"c\" conv2d { filters: 1048576 kernel_size: [1] pads: "
      "[1048576, 1048576, 1048576, 1048576] } }\n"
      "layer { name: \"f\" flatten {} }\n"
      "layer { name: \"out\" dense { units: 2 activation: SOFTMAX } }\n"
      "loss { mse {} }\n");
  EXPECT_EQ(err.rfind("model.pbtxt:2:1: error: layer 'c': output [N, "
                      "3145728, 2097216, 1048576] has more than ",
                      0),
            0u)
      << err;
}

TEST(CheckerLimits, HugeKernelIsRejected) {
  std::string err = errorOf(
      "input { name: \"image\" shape: [4, 4, 1048576] }\n"
      "layer { name: \"c\" conv2d { filters: 1048576 kernel_size: [3] } }\n"
      "layer { name: \"f\" flatten {} }\n"
      "layer { name: \"out\" dense { units: 2 activation: SOFTMAX } }\n"
      "loss { mse {} }\n");
  EXPECT_EQ(err.rfind("model.pbtxt:2:1: error: layer 'c': kernel [3, 3, "
                      "1048576, 1048576] has more than ",
                      0),
            0u)
      << err;
}

TEST(CheckerLimits, HugeDenseKernelIsRejected) {
  std::string err = errorOf(
      "input { name: \"image\" shape: [1024, 1024, 64] }\n"
      "layer { name: \"f\" flatten {} }\n"
      "layer { name: \"out\" dense { units: 1048576 activation: SOFTMAX } "
      "}\n"
      "loss { mse {} }\n");
  EXPECT_EQ(err.rfind("model.pbtxt:3:1: error: layer 'out': kernel "
                      "[67108864, 1048576] has more than ",
                      0),
            0u)
      << err;
}

TEST(CheckerLimits, LargestInputImports) {
  Checked c = check("input { shape: [1048576, 64, 1] }\n"
                    "layer { name: \"p\" max_pool2d { pool_size: [64] } }\n"
                    "layer { name: \"f\" flatten {} }\n"
                    "layer { name: \"out\" dense { units: 2 activation: "
                    "SOFTMAX } }\n"
                    "loss { mse {} }\n");
  ASSERT_TRUE(c.model.ok()) << c.model.status().message();
  EXPECT_EQ(findLayer(*c.model, "f")->shape, (Shape{16384}));
}

TEST(CheckerLimits, DropoutRateJustBelowOneImports) {
  // 0.99999994 is the float below 1; the rate the IR gets must stay below 1.
  Checked c = check(model("layer { name: \"f\" flatten {} }\n"
                          "layer { name: \"d\" dropout { rate: 0.99999994 } "
                          "}\n"
                          "layer { name: \"a\" activation { kind: LEAKY_RELU "
                          "alpha: 0.9999999 } }\n" +
                          std::string(kOutput)));
  ASSERT_TRUE(c.model.ok()) << c.model.status().message();
  EXPECT_LT(findLayer(*c.model, "d")->attr("rate"), 1.0);
  EXPECT_LT(findLayer(*c.model, "a")->alpha, 1.0);
  mlir::MLIRContext ctx;
  ctx.loadDialect<gradc::nn::NNDialect, mlir::func::FuncDialect>();
  auto module = importModel(ctx, *c.model, 2);
  EXPECT_TRUE(module.ok()) << module.status().message();
}

TEST(CheckerLimits, ExtremeSeedImports) {
  for (const char *seed : {"9223372036854775807", "-9223372036854775808"}) {
    Checked c = check(model(
        "layer { name: \"f\" flatten {} }\n"
        "layer { name: \"d\" dropout { rate: 0.5 } }\n" +
            std::string(kOutput),
        absl::StrCat("loss { mse {} }\ntraining { seed: ", seed, " }\n")));
    ASSERT_TRUE(c.model.ok()) << c.model.status().message();
    mlir::MLIRContext ctx;
    ctx.loadDialect<gradc::nn::NNDialect, mlir::func::FuncDialect>();
    auto module = importModel(ctx, *c.model, 2);
    EXPECT_TRUE(module.ok()) << module.status().message();
  }
}

/// A chain of `n` dense layers where each names the next one as its input,
/// so the file lists them in reverse order of computation.
std::string reverseChain(int n) {
  std::string text = "input { name: \"x\" shape: [4] }\n";
  for (int i = 0; i < n; ++i)
    absl::StrAppend(&text, "layer { name: \"l", i,
                    "\" activation { kind: "
                    "RELU } inputs: [\"",
                    i + 1 < n ? absl::StrCat("l", i + 1) : "x", "\"] }\n");
  // The output is the last layer of the file: make it the end of the chain.
  absl::StrAppend(&text, "layer { name: \"out\" dense { units: 2 activation: "
                         "SOFTMAX } inputs: [\"l0\"] }\n"
                         "loss { mse {} }\n");
  return text;
}

TEST(CheckerLimits, DeepGraphsDoNotExhaustTheStack) {
  Checked c = check(reverseChain(100000));
  ASSERT_TRUE(c.model.ok()) << c.model.status().message().substr(0, 500);
  EXPECT_EQ(c.model->layers.size(), 100001u);
  EXPECT_EQ(c.model->layers.front().layer->name(), "l99999");
}

TEST(CheckerLimits, LongCycleIsReported) {
  std::string text = reverseChain(50000);
  // Close the chain: the last layer of the chain reads the first.
  size_t p = text.find("inputs: [\"x\"]");
  ASSERT_NE(p, std::string::npos);
  text.replace(p, 14, "inputs: [\"l0\"]");
  std::vector<std::string> errs = errorsOf(text);
  ASSERT_EQ(errs.size(), 1u);
  EXPECT_EQ(errs[0].rfind("model.pbtxt:2:1: error: layer 'l0': cycle through "
                          "l0 -> l1 -> ",
                          0),
            0u)
      << errs[0].substr(0, 200);
}

TEST(CheckerLimits, WideAddImports) {
  std::string text = "input { name: \"x\" shape: [4] }\n"
                     "layer { name: \"a\" add {} inputs: [";
  for (int i = 0; i < 5000; ++i)
    absl::StrAppend(&text, i ? ", " : "", "\"x\"");
  text += "] }\nlayer { name: \"out\" dense { units: 2 } }\nloss { mse {} "
          "}\n";
  Checked c = check(text);
  ASSERT_TRUE(c.model.ok()) << c.model.status().message();
  mlir::MLIRContext ctx;
  ctx.loadDialect<gradc::nn::NNDialect, mlir::func::FuncDialect>();
  auto module = importModel(ctx, *c.model, 2);
  ASSERT_TRUE(module.ok()) << module.status().message();
}

} // namespace

//===----------------------------------------------------------------------===//
// Memory budget (frontend/ModelBudget.h)
//===----------------------------------------------------------------------===//

namespace {
const char *kBudgetModel = R"(name: "budget"
input { name: "x" shape: [8, 8, 1] }
layer { name: "conv" conv2d { filters: 4 kernel_size: [3, 3] } }
layer { name: "flat" flatten {} }
layer { name: "out" dense { units: 10 activation: SOFTMAX } }
loss { sparse_categorical_crossentropy {} }
optimizer { adam {} }
)";
} // namespace

TEST(MemoryBudget, CountsParametersSlotsAndActivations) {
  Checked c = check(kBudgetModel);
  ASSERT_TRUE(c.model.ok()) << c.model.status().message();
  // Parameters: conv 3*3*1*4 + 4 = 40, dense 144*10 + 10 = 1450.
  int64_t params = 40 + 1450;
  // Per example: the input 64, conv 6*6*4 = 144, flat 144, out 10, out's
  // softmax is the same layer.
  int64_t outputs = 144 + 144 + 10;
  // Inference: each parameter once, the input and outputs once.
  EXPECT_EQ(stepMemoryBytes(*c.model, 2, false),
            4 * (params + 2 * (64 + outputs)));
  // Training with Adam: parameter, gradient, m and v; outputs and their
  // gradients.
  EXPECT_EQ(stepMemoryBytes(*c.model, 2, true),
            4 * (4 * params + 2 * 64 + 2 * 2 * outputs));
}

TEST(MemoryBudget, RefusesAtTheLayerThatCrossesTheLimit) {
  Checked c = check(kBudgetModel);
  ASSERT_TRUE(c.model.ok());
  EXPECT_TRUE(checkMemoryBudget(*c.model, 2, true, 1 << 20, "test").ok());
  // Parameters and slots take 23,840 bytes, the input 512 at batch 2; the
  // conv's output and gradient 2,304 more: a limit of 25,000 is crossed at
  // the conv.
  absl::Status s = checkMemoryBudget(*c.model, 2, true, 25000, "test");
  ASSERT_FALSE(s.ok());
  std::string m(s.message());
  EXPECT_NE(m.find("model.pbtxt: error: a training step at a batch of 2 "
                   "needs at least 28.4 KiB; the limit of 24.4 KiB (test) is "
                   "crossed at layer 'conv' (output [2, 6, 6, 4])"),
            std::string::npos)
      << m;
  EXPECT_NE(m.find("--memory-limit"), std::string::npos) << m;
  EXPECT_EQ(m.find('\n'), std::string::npos) << m;
  // Below the parameters alone: the parameters are named.
  s = checkMemoryBudget(*c.model, 2, true, 1000, "test");
  EXPECT_NE(std::string(s.message()).find("crossed at its parameters"),
            std::string::npos)
      << s.message();
}

TEST(MemoryBudget, HugeModelsSaturateInsteadOfOverflowing) {
  // A million filters on a large input: about 52 GB a step at batch 32.
  Checked c = check(R"(name: "huge"
input { name: "x" shape: [28, 28, 1] }
layer { name: "conv" conv2d { filters: 1048576 kernel_size: [3, 3] } }
layer { name: "gap" global_avg_pool2d {} }
layer { name: "out" dense { units: 10 activation: SOFTMAX } }
loss { sparse_categorical_crossentropy {} }
)");
  ASSERT_TRUE(c.model.ok()) << c.model.status().message();
  EXPECT_GT(stepMemoryBytes(*c.model, 32, true), int64_t(50) << 30);
  EXPECT_GT(stepMemoryBytes(*c.model, 65536, true), int64_t(0));
  absl::Status s = checkMemoryBudget(*c.model, 32, true, int64_t(24) << 30,
                                     "the machine's memory");
  ASSERT_FALSE(s.ok());
  EXPECT_NE(std::string(s.message()).find("layer 'conv'"), std::string::npos)
      << s.message();
}

TEST(MemoryBudget, AnEnforcedLimitIsNamedAndNotRaisedByTheFlag) {
  // A limit set by an rlimit or a cgroup (detectMemoryLimit): the error
  // names it, and --memory-limit cannot raise it.
  Checked c = check(kBudgetModel);
  ASSERT_TRUE(c.model.ok());
  MemoryLimit limit{25000,
                    "the process's address-space limit (RLIMIT_AS) of 1.0 GiB "
                    "less the 1.0 GiB already mapped",
                    true};
  absl::Status s = checkMemoryBudget(*c.model, 2, true, limit);
  ASSERT_FALSE(s.ok());
  std::string m(s.message());
  EXPECT_NE(m.find("the limit of 24.4 KiB (the process's address-space limit "
                   "(RLIMIT_AS) of 1.0 GiB less the 1.0 GiB already mapped) "
                   "is crossed at layer 'conv' (output [2, 6, 6, 4]): reduce "
                   "the batch or the model, or raise that limit"),
            std::string::npos)
      << m;
  EXPECT_EQ(m.find("--memory-limit"), std::string::npos) << m;
  EXPECT_EQ(m.find('\n'), std::string::npos) << m;
  limit.bytes = 1 << 20;
  EXPECT_TRUE(checkMemoryBudget(*c.model, 2, true, limit).ok());
}

//===----------------------------------------------------------------------===//
// Code budget (frontend/ModelBudget.h)
//===----------------------------------------------------------------------===//

TEST(CodeBudget, SumsTheLayersEstimates) {
  Checked c = check(kBudgetModel);
  ASSERT_TRUE(c.model.ok()) << c.model.status().message();
  // The module's own 48 KiB, 16 KiB for the conv and the dense layer;
  // flatten adds nothing.
  EXPECT_EQ(moduleCodeBytes(*c.model), int64_t(80) << 10);
  EXPECT_TRUE(checkCodeBudget(*c.model, int64_t(80) << 10, "test").ok());

  // Grouped convolutions lower one convolution per group for the forward
  // and both gradients; depthwise ones take one each.
  Checked g = check(R"(name: "grouped"
input { name: "x" shape: [8, 8, 64] }
layer { name: "g" conv2d { filters: 64 kernel_size: [3, 3] groups: 8 } }
layer { name: "dw" conv2d { filters: 64 kernel_size: [3, 3] groups: 64 } }
layer { name: "gap" global_avg_pool2d {} }
layer { name: "out" dense { units: 10 activation: SOFTMAX } }
loss { sparse_categorical_crossentropy {} }
)");
  ASSERT_TRUE(g.model.ok()) << g.model.status().message();
  EXPECT_EQ(g.model->layers[0].codeBytes, 3 * 8 * 2560);
  EXPECT_EQ(g.model->layers[1].codeBytes, int64_t(16) << 10);
  EXPECT_EQ(g.model->layers[2].codeBytes, 0);
}

TEST(CodeBudget, RefusesAtTheLayerThatCrossesTheLimit) {
  Checked c = check(kBudgetModel);
  ASSERT_TRUE(c.model.ok());
  // 48 KiB + the conv's 16 KiB cross a limit of 60 KiB at the conv.
  absl::Status s = checkCodeBudget(*c.model, 60 << 10, "test");
  ASSERT_FALSE(s.ok());
  std::string m(s.message());
  EXPECT_NE(m.find("model.pbtxt: error: the compiled model needs at least "
                   "80.0 KiB of machine code; the limit of 60.0 KiB (test) is "
                   "crossed at layer 'conv' (conv2d, 16.0 KiB): reduce the "
                   "model, or raise --code-limit"),
            std::string::npos)
      << m;
  EXPECT_EQ(m.find('\n'), std::string::npos) << m;
  // Below the module's own code: no layer is to blame.
  s = checkCodeBudget(*c.model, 1000, "test");
  EXPECT_NE(std::string(s.message()).find("crossed at the module's own code"),
            std::string::npos)
      << s.message();
}

TEST(CodeBudget, ThousandsOfGroupsAreRefusedByDefault) {
  // 4,096 groups of one channel and two filters: 3 * 4,096 convolutions of
  // at least 2.5 KiB, 30 MiB.
  Checked c = check(R"(name: "groups"
input { name: "x" shape: [4, 4, 4096] }
layer { name: "wide" conv2d { filters: 8192 kernel_size: [1, 1] groups: 4096 } }
layer { name: "gap" global_avg_pool2d {} }
layer { name: "out" dense { units: 10 activation: SOFTMAX } }
loss { sparse_categorical_crossentropy {} }
)");
  ASSERT_TRUE(c.model.ok()) << c.model.status().message();
  EXPECT_EQ(c.model->layers[0].codeBytes, int64_t(30) << 20);
  absl::Status s =
      checkCodeBudget(*c.model, kDefaultCodeLimitBytes, "the default");
  ASSERT_FALSE(s.ok());
  EXPECT_NE(std::string(s.message()).find("crossed at layer 'wide'"),
            std::string::npos)
      << s.message();
}
