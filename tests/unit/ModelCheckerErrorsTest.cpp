//===- ModelCheckerErrorsTest.cpp - what a bad model reports --------------===//
//
// Every checker message, one "file:line:col: error: layer 'x': ..." line
// at the line of the part at fault; a model with several problems reports
// each independent one (and no cascade from a failed layer); syntax errors
// point into the file and name the unknown field or value.
//
//===----------------------------------------------------------------------===//

#include "ModelCheckerHelpers.h"

#include "gtest/gtest.h"

#include <algorithm>
#include <cctype>

using namespace gradc;
using namespace gradc::test;

namespace {

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
       "model.pbtxt:3:1: error: layer 'image': ", "has the name of an input"},
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
      {"reshape count",
       layerLine("layer { name: \"c\" reshape { target_shape: [5, 5] } }\n"),
       L3,
       "target_shape [5, 5] does not hold the 64 elements of the input's "
       "[8, 8, 1]"},
      {"reshape two -1",
       layerLine("layer { name: \"c\" reshape { target_shape: [-1, -1] } "
                 "}\n"),
       L3, "target_shape must be in [1, 1048576], got -1"},
      {"reshape inferred",
       layerLine("layer { name: \"c\" reshape { target_shape: [3, -1] } }\n"),
       L3,
       "target_shape [3, -1] does not hold the 64 elements of the input's "
       "[8, 8, 1]"},
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
      {"layer norm epsilon",
       layerLine("layer { name: \"c\" layer_norm { epsilon: 0 } }\n"), L3,
       "layer_norm epsilon must be positive, got 0"},
      {"reduce axis out of range",
       layerLine("layer { name: \"c\" reduce { axes: [1, 4] } }\n"), L3,
       "reduce axes must be within 1..3 (the input's dimensions without the "
       "batch, 1-based), got [1, 4]"},
      {"reduce of the batch",
       layerLine("layer { name: \"c\" reduce { op: MAX axes: [0] } }\n"), L3,
       "reduce axes must be within 1..3 (the input's dimensions without the "
       "batch, 1-based), got [0]"},
      {"reduce axis repeated",
       layerLine("layer { name: \"c\" reduce { op: SUM axes: [2, 2] } }\n"), L3,
       "reduce axes must not repeat a dimension, got [2, 2]"},
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
      {"dense on an image's channels as the output", model(kOutput),
       "model.pbtxt:4:1: error: ",
       "loss cross_entropy on output layer 'out' expects a 2-D output [N, "
       "classes], got [N, 8, 8, 3]; add a flatten or global pooling layer "
       "before it (sparse_categorical_crossentropy takes a label per "
       "position of [N, T..., classes])"},
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
             "layer { name: \"d\" dense { units: 3 } }\n"
             "layer { name: \"a\" add {} inputs: [\"f\", \"d\"] }\n" +
             std::string(kOutput)),
       "model.pbtxt:5:1: error: layer 'a': ",
       "add cannot broadcast its inputs [64] and [3] (per example, aligned "
       "at the last dimension, sizes must match or be 1)"},
      {"matmul of one input",
       model("layer { name: \"c\" matmul {} }\n" + std::string(kOutput)), L3,
       "matmul expects 2 inputs, got 1"},
      {"matmul of a vector",
       model("layer { name: \"f\" flatten {} }\n"
             "layer { name: \"m\" matmul {} inputs: [\"f\", \"f\"] }\n" +
             std::string(kOutput)),
       "model.pbtxt:4:1: error: layer 'm': ",
       "matmul expects inputs of 2 or more dimensions per example, got "
       "input 1 of [64]"},
      {"matmul contracted sizes",
       model("layer { name: \"c\" matmul {} inputs: [\"image\", "
             "\"image\"] }\n" +
             std::string(kOutput)),
       L3,
       "matmul expects contracted sizes to match, got 1 and 8 (inputs [8, "
       "8, 1] and [8, 8, 1] per example)"},
      {"matmul batch dimensions",
       model("layer { name: \"w\" weight { shape: [3, 8, 1] } }\n"
             "layer { name: \"m\" matmul { transpose_b: true } inputs: "
             "[\"image\", \"w\"] }\n" +
             std::string(kOutput)),
       "model.pbtxt:4:1: error: layer 'm': ",
       "matmul expects batch dimensions that broadcast, got 8 and 3 (inputs "
       "[8, 8, 1] and [3, 8, 1] per example, transpose_b)"},
      {"subtract of three",
       model("layer { name: \"f\" flatten {} }\n"
             "layer { name: \"s\" subtract {} inputs: [\"f\", \"f\", "
             "\"f\"] }\n" +
             std::string(kOutput)),
       "model.pbtxt:4:1: error: layer 's': ",
       "subtract expects 2 inputs, got 3"},
      {"constant with an input",
       model("layer { name: \"f\" flatten {} }\n"
             "layer { name: \"k\" constant { value: 1 } inputs: [\"f\"] }\n"
             "layer { name: \"m\" multiply {} inputs: [\"f\", \"k\"] }\n" +
             std::string(kOutput)),
       "model.pbtxt:4:1: error: layer 'k': ", "takes no input, got 1"},
      {"weight of size zero",
       model("layer { name: \"f\" flatten {} }\n"
             "layer { name: \"w\" weight { shape: [0] } }\n"
             "layer { name: \"m\" multiply {} inputs: [\"f\", \"w\"] }\n" +
             std::string(kOutput)),
       "model.pbtxt:4:1: error: layer 'w': ",
       "weight shape must be in [1, 1048576], got 0"},
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
       "model.pbtxt:1:1: error: ", "expects an input"},
      {"two inputs",
       model("input { name: \"x\" shape: [3] }\n"
             "layer { name: \"f\" flatten {} }\n" +
             std::string(kOutput)),
       "model.pbtxt:1:1: error: ",
       "training takes one input (the dataset's examples); this model has 2 "
       "(image, x)"},
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
       "classes], got [N, 6, 6, 2]; add a flatten or global pooling layer "
       "before it (sparse_categorical_crossentropy takes a label per "
       "position of [N, T..., classes])"},
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
      // Integer ids: only an embedding reads them, and it reads nothing else.
      {"embedding input_dim",
       "name: \"t\"\ninput { name: \"ids\" shape: [6] dtype: INT32 }\n"
       "layer { name: \"c\" embedding { output_dim: 4 } }\n"
       "layer { name: \"f\" flatten {} }\n" +
           std::string(kOutput) + kTail,
       L3, "input_dim must be in [1, 1048576], got 0"},
      {"embedding of floats",
       layerLine("layer { name: \"c\" embedding { input_dim: 5 output_dim: "
                 "4 } }\n"),
       L3,
       "takes integer ids (an input of dtype INT32 or INT64); input "
       "'image' holds floats"},
      {"ids into a dense layer",
       "name: \"t\"\ninput { name: \"ids\" shape: [6] dtype: INT64 }\n"
       "layer { name: \"c\" dense { units: 3 activation: SOFTMAX } }\n" +
           std::string(kTail),
       L3,
       "takes float values; input 'ids' holds INT64 ids, which only an "
       "embedding layer reads"},
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
                     "layer { name: \"d\" dense { units: 0 } inputs: "
                     "[\"image\"] }\n" // 5
                     "layer { name: \"f\" flatten {} inputs: [\"image\"] }\n"
                     // 6
                     "layer { name: \"a\" subtract {} inputs: [\"f\", "
                     "\"image\", \"f\"] }\n" // 7
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
      "model.pbtxt:5:1: error: layer 'd': units must be in [1, 1048576], "
      "got 0",
      "model.pbtxt:7:1: error: layer 'a': subtract expects 2 inputs, got 3",
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
      "model.pbtxt:1:1: error: expects an input",
      "model.pbtxt:1:1: error: expects at least one layer",
      "model.pbtxt:1:1: error: expects a loss { ... }"};
  EXPECT_EQ(errs, expected);
}

} // namespace
