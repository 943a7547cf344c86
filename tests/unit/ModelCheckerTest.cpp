//===- ModelCheckerTest.cpp - what checked models resolve to --------------===//
//
// The examples resolve to the right layer shapes, parameters and training
// settings and import to modules that verify, with every op located at its
// layer in the file; the other layer kinds resolve to the right shapes
// (padding, strides, dilations, defaults, layers listed before their inputs).
// Errors are in ModelCheckerErrorsTest.cpp, files in ModelFilesTest.cpp,
// size limits in ModelLimitsTest.cpp and budgets in ModelBudgetTest.cpp.
//
//===----------------------------------------------------------------------===//

#include "ExampleFiles.h"
#include "ModelCheckerHelpers.h"

#include "frontend/Importer.h"
#include "ir/NNDialect.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Verifier.h"
#include "gtest/gtest.h"

using namespace gradc;
using namespace gradc::test;

namespace {

//===----------------------------------------------------------------------===//
// The examples
//===----------------------------------------------------------------------===//

TEST(CheckerExamples, FashionCnnResolves) {
  Checked c = check(readFile(examplePath("fashion_mnist_cnn.pbtxt")));
  ASSERT_TRUE(c.model.ok()) << c.model.status().message();
  const ResolvedModel &m = *c.model;
  EXPECT_EQ(m.name, "fashion_cnn");
  EXPECT_EQ(m.inputName(), "image");
  EXPECT_EQ(m.inputShape(), (Shape{28, 28, 1}));
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
  EXPECT_EQ(m.data.idx().dir(), "/usr/share/datasets/fashion-mnist");
  EXPECT_EQ(m.outputWidth(), 10);
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
  EXPECT_EQ(m.inputName(), "input");
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

} // namespace
