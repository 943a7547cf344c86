//===- MutationRandomModelsTest.cpp - random models through the frontend --===//
//
// Random models built through the protobuf API (a plausible chain of
// conv/pool then dense layers with random branches, names and values, some
// of them extreme) run through the whole frontend (MutationFrontend.h) as
// text and as binary files: neither may crash, hang or break a requirement,
// and both forms of one model get the same verdict and messages.
//
//===----------------------------------------------------------------------===//

#include "MutationFrontend.h"

#include "absl/strings/str_cat.h"
#include "google/protobuf/text_format.h"
#include "gtest/gtest.h"

#include <limits>
#include <string>
#include <vector>

using namespace gradc;
using namespace gradc::test;

namespace {

//===----------------------------------------------------------------------===//
// Random models through the protobuf API
//===----------------------------------------------------------------------===//

constexpr int64_t kInt64Max = std::numeric_limits<int64_t>::max();
constexpr int64_t kInt64Min = std::numeric_limits<int64_t>::min();

int64_t wildInt(Random &rnd) {
  static const std::vector<int64_t> values = {
      0,         -1,          1,           2,         3,
      kMaxDim,   kMaxDim - 1, kMaxDim + 1, kMaxBatch, 1 << 30,
      kInt64Max, kInt64Min,   4294967296};
  return rnd.pick(values);
}

float wildFloat(Random &rnd) {
  static const std::vector<float> values = {
      0.0f,
      -0.0f,
      0.5f,
      0.1f,
      1.0f,
      -1.0f,
      0.99999994f,
      1e-45f,
      1e30f,
      std::numeric_limits<float>::max(),
      std::numeric_limits<float>::quiet_NaN(),
      std::numeric_limits<float>::infinity(),
      -std::numeric_limits<float>::infinity()};
  return rnd.pick(values);
}

/// Mostly small sizes, sometimes extreme ones.
int64_t randomSize(Random &rnd, int64_t lo, int64_t hi) {
  if (rnd.chance(4))
    return wildInt(rnd);
  return lo + static_cast<int64_t>(rnd.below(hi - lo + 1));
}

float fraction(Random &rnd) {
  if (rnd.chance(5))
    return wildFloat(rnd);
  return static_cast<float>(rnd.below(100)) / 100.0f;
}

void setInts(google::protobuf::RepeatedField<int64_t> *field, Random &rnd,
             int64_t lo, int64_t hi) {
  size_t n = rnd.chance(5) ? rnd.below(6) : 1 + rnd.below(2);
  for (size_t i = 0; i < n; ++i)
    field->Add(randomSize(rnd, lo, hi));
}

void setInitializer(Initializer *init, Random &rnd) {
  switch (rnd.below(9)) {
  case 0:
    init->mutable_zeros();
    break;
  case 1:
    init->mutable_he_normal();
    break;
  case 2:
    init->mutable_uniform()->set_minval(wildFloat(rnd));
    init->mutable_uniform()->set_maxval(wildFloat(rnd));
    break;
  case 3:
    init->mutable_normal()->set_stddev(wildFloat(rnd));
    break;
  case 4:
    init->mutable_ones();
    break;
  default:
    break; // the default initializer
  }
}

Activation randomActivation(Random &rnd) {
  if (rnd.chance(3))
    return static_cast<Activation>(7 + rnd.below(100));
  return static_cast<Activation>(rnd.below(7));
}

Padding randomPadding(Random &rnd) {
  if (rnd.chance(3))
    return static_cast<Padding>(2 + rnd.below(5));
  return static_cast<Padding>(rnd.below(2));
}

/// A random model: a plausible chain (conv/pool while 4-D, then dense) with
/// random branches, names and values, some of them extreme.
Model randomModel(Random &rnd) {
  Model m;
  if (rnd.chance(90))
    m.set_name(rnd.chance(90) ? "random" : "\"odd\\name\n");
  int inputs = rnd.chance(95) ? 1 : rnd.below(3);
  bool image = rnd.chance(70);
  for (int i = 0; i < inputs; ++i) {
    Input *in = m.add_input();
    if (rnd.chance(90))
      in->set_name("x");
    if (image) {
      in->add_shape(randomSize(rnd, 3, 16));
      in->add_shape(randomSize(rnd, 3, 16));
      in->add_shape(randomSize(rnd, 1, 3));
    } else {
      in->add_shape(randomSize(rnd, 1, 40));
    }
    if (rnd.chance(3))
      in->add_shape(randomSize(rnd, 1, 4));
  }
  bool fourD = image;
  std::vector<std::string> names{"x"};
  int numLayers = rnd.chance(2) ? 0 : 1 + rnd.below(8);
  for (int i = 0; i < numLayers; ++i) {
    Layer *l = m.add_layer();
    std::string name = absl::StrCat("l", i);
    if (rnd.chance(2)) // names are free text: one error line each still
      name = absl::StrCat("multi\nline\r'", i, "'");
    if (rnd.chance(1))
      name = rnd.pick(names); // a duplicate, or the input's name
    if (!rnd.chance(1))
      l->set_name(name);
    int kind = fourD ? rnd.below(6) : 4 + rnd.below(5);
    bool last = i == numLayers - 1;
    if (last && rnd.chance(70)) {
      kind = 8; // a classifier head, mostly after a flatten
      if (fourD && rnd.chance(90)) {
        l->set_name(absl::StrCat("f", i));
        l->mutable_flatten();
        names.push_back(l->name());
        l = m.add_layer();
        l->set_name(name);
      }
    }
    switch (kind) {
    case 0:
    case 1: {
      Conv2D *c = l->mutable_conv2d();
      c->set_filters(randomSize(rnd, 1, 8));
      setInts(c->mutable_kernel_size(), rnd, 1, 4);
      if (rnd.chance(40))
        setInts(c->mutable_strides(), rnd, 1, 3);
      if (rnd.chance(20))
        setInts(c->mutable_dilations(), rnd, 1, 3);
      if (rnd.chance(60))
        c->set_padding(randomPadding(rnd));
      if (rnd.chance(15))
        for (int k = 0, n = rnd.chance(80) ? 4 : rnd.below(6); k < n; ++k)
          c->add_pads(randomSize(rnd, 0, 2));
      if (rnd.chance(30))
        c->set_use_bias(rnd.chance(50));
      if (rnd.chance(50))
        c->set_activation(randomActivation(rnd));
      if (rnd.chance(20))
        c->set_alpha(fraction(rnd));
      if (rnd.chance(20))
        setInitializer(c->mutable_kernel_initializer(), rnd);
      break;
    }
    case 2:
    case 3: {
      Pool2D *p =
          rnd.chance(50) ? l->mutable_max_pool2d() : l->mutable_avg_pool2d();
      setInts(p->mutable_pool_size(), rnd, 1, 3);
      if (rnd.chance(40))
        setInts(p->mutable_strides(), rnd, 1, 3);
      if (rnd.chance(50))
        p->set_padding(randomPadding(rnd));
      if (rnd.chance(15))
        for (int k = 0; k < 4; ++k)
          p->add_pads(randomSize(rnd, 0, 2));
      break;
    }
    case 4:
      l->mutable_flatten();
      fourD = false;
      break;
    case 5: {
      ActivationLayer *a = l->mutable_activation();
      a->set_kind(randomActivation(rnd));
      if (rnd.chance(50))
        a->set_alpha(fraction(rnd));
      break;
    }
    case 6:
      l->mutable_dropout()->set_rate(fraction(rnd));
      break;
    case 7: {
      // A residual connection of the previous layer, or random inputs.
      l->mutable_add();
      bool residual = rnd.chance(70);
      for (int k = 0, n = residual ? 2 : rnd.below(4); k < n; ++k)
        l->add_inputs(residual ? names.back() : rnd.pick(names));
      break;
    }
    case 8: {
      Dense *d = l->mutable_dense();
      d->set_units(randomSize(rnd, 1, 12));
      if (rnd.chance(30))
        d->set_use_bias(rnd.chance(50));
      d->set_activation(rnd.chance(60) ? SOFTMAX : randomActivation(rnd));
      if (rnd.chance(20))
        d->set_alpha(fraction(rnd));
      if (rnd.chance(20))
        setInitializer(d->mutable_bias_initializer(), rnd);
      break;
    }
    }
    if (kind != 7 && rnd.chance(4))
      for (int k = 0, n = 1 + rnd.below(2); k < n; ++k)
        l->add_inputs(rnd.chance(90) ? rnd.pick(names) : "missing");
    names.push_back(name);
  }
  if (rnd.chance(95)) {
    Loss *loss = m.mutable_loss();
    switch (rnd.below(12)) {
    case 0:
      loss->mutable_binary_crossentropy();
      break;
    case 1:
      loss->mutable_mse();
      break;
    case 2:
      loss->mutable_mae();
      break;
    case 3:
      loss->mutable_huber()->set_delta(wildFloat(rnd));
      break;
    case 4:
      loss->mutable_hinge();
      break;
    case 5:
      loss->mutable_squared_hinge();
      break;
    case 6:
      loss->mutable_categorical_hinge();
      break;
    case 7:
      loss->mutable_sparse_categorical_crossentropy();
      break;
    default:
      loss->mutable_categorical_crossentropy();
      break;
    }
  }
  if (rnd.chance(70)) {
    Optimizer *o = m.mutable_optimizer();
    auto value = [&](float normal) {
      return rnd.chance(15) ? wildFloat(rnd) : normal;
    };
    switch (rnd.below(4)) {
    case 0:
      o->mutable_sgd()->set_learning_rate(value(0.01f));
      o->mutable_sgd()->set_weight_decay(value(0.0f));
      break;
    case 1:
      o->mutable_momentum()->set_learning_rate(value(0.01f));
      o->mutable_momentum()->set_momentum(value(0.9f));
      o->mutable_momentum()->set_nesterov(rnd.chance(50));
      break;
    case 2:
      o->mutable_rmsprop()->set_rho(value(0.9f));
      o->mutable_rmsprop()->set_epsilon(value(1e-7f));
      break;
    case 3:
      o->mutable_adam()->set_beta_1(value(0.9f));
      o->mutable_adam()->set_beta_2(value(0.999f));
      o->mutable_adam()->set_weight_decay(value(0.0f));
      break;
    }
  }
  if (rnd.chance(70)) {
    Training *t = m.mutable_training();
    t->set_batch_size(randomSize(rnd, 1, 64));
    t->set_epochs(randomSize(rnd, 1, 5));
    t->set_seed(rnd.chance(20) ? wildInt(rnd) : int64_t(rnd.below(100)));
    if (rnd.chance(30))
      t->set_validation_split(fraction(rnd));
    if (rnd.chance(20))
      t->set_shuffle(rnd.chance(50));
  }
  if (rnd.chance(50))
    m.mutable_data()->mutable_idx()->set_dir("/tmp/data");
  return m;
}

//===----------------------------------------------------------------------===//
// The tests
//===----------------------------------------------------------------------===//

TEST(Mutation, RandomModelsAsTextAndBinary) {
  Frontend frontend;
  Random rnd(1234);
  const int models = 1500;
  google::protobuf::TextFormat::Printer printer;
  printer.SetUseShortRepeatedPrimitives(true);
  for (int i = 0; i < models; ++i) {
    Model m = randomModel(rnd);
    std::string how = absl::StrCat("random model #", i);
    std::string text;
    ASSERT_TRUE(printer.PrintToString(m, &text));
    std::vector<std::string> fromText =
        frontend.runText(text, "random.pbtxt", how + " (text)");
    std::vector<std::string> fromBinary =
        frontend.runBinary(m.SerializeAsString(), how + " (binary)");
    // Text and binary files of one model get the same verdict and messages;
    // only the locations differ.
    EXPECT_EQ(fromText, fromBinary) << how << "\n" << text;
  }
  report("random models", frontend.stats);
  frontend.expectNoFailures();
  EXPECT_EQ(frontend.stats.mutants, 2 * models);
  EXPECT_GT(frontend.stats.checkFailed, 200);
  EXPECT_GT(frontend.stats.imported, 200);
}

} // namespace
