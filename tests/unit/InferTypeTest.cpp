//===- InferTypeTest.cpp - result types from the ops' shape rules ---------===//
//
// The forward ops the importer builds infer their result types
// (InferTypeOpInterface) from the same shape rules their verifiers check:
// built without a result type, each gets the shape the rule gives, and an
// operand the rule rejects is reported at the location, not built.
//
//===----------------------------------------------------------------------===//

#include "ir/NNDialect.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/Diagnostics.h"

#include "gtest/gtest.h"

using namespace mlir;
using namespace gradc;

namespace {

class InferType : public testing::Test {
protected:
  InferType() : b(&ctx) {
    ctx.loadDialect<nn::NNDialect, func::FuncDialect>();
    module = ModuleOp::create(b.getUnknownLoc());
    b.setInsertionPointToEnd(module->getBody());
  }
  /// A value of type tensor<shape x f32>: a block argument of a new block.
  Value arg(ArrayRef<int64_t> shape) {
    auto t = RankedTensorType::get(shape, b.getF32Type());
    return block.addArgument(t, b.getUnknownLoc());
  }
  std::vector<int64_t> shapeOf(Value v) {
    auto s = cast<RankedTensorType>(v.getType()).getShape();
    return {s.begin(), s.end()};
  }

  MLIRContext ctx;
  OpBuilder b;
  OwningOpRef<ModuleOp> module;
  Block block;
};

using Shape = std::vector<int64_t>;

TEST_F(InferType, ConvAndPoolingFollowTheWindowRule) {
  Value x = arg({2, 9, 8, 6}), w = arg({3, 3, 3, 4});
  auto act = nn::ActivationKindAttr::get(&ctx, nn::ActivationKind::None);
  Value y = b.create<nn::Conv2DOp>(
      b.getUnknownLoc(), x, w, Value(), b.getDenseI64ArrayAttr({2, 2}),
      b.getDenseI64ArrayAttr({1, 1, 0, 1}), b.getDenseI64ArrayAttr({1, 1}), act,
      b.getF64FloatAttr(0.0), b.getI64IntegerAttr(2));
  // floor((9 + 2 - 3) / 2) + 1 = 5, floor((8 + 1 - 3) / 2) + 1 = 4.
  EXPECT_EQ(shapeOf(y), (Shape{2, 5, 4, 4}));
  Value p = b.create<nn::MaxPool2DOp>(
      b.getUnknownLoc(), y, b.getDenseI64ArrayAttr({2, 2}),
      b.getDenseI64ArrayAttr({2, 2}), b.getDenseI64ArrayAttr({0, 1, 0, 0}));
  EXPECT_EQ(shapeOf(p), (Shape{2, 3, 2, 4}));
  Value g = b.create<nn::GlobalAvgPool2DOp>(b.getUnknownLoc(), p);
  EXPECT_EQ(shapeOf(g), (Shape{2, 4}));
}

TEST_F(InferType, DenseFlattenConcat) {
  Value x = arg({3, 2, 5, 7});
  Value f = b.create<nn::FlattenOp>(b.getUnknownLoc(), x);
  EXPECT_EQ(shapeOf(f), (Shape{3, 70}));
  Value d = b.create<nn::DenseOp>(b.getUnknownLoc(), f, arg({70, 11}), Value());
  EXPECT_EQ(shapeOf(d), (Shape{3, 11}));
  Value c = b.create<nn::ConcatOp>(b.getUnknownLoc(),
                                   ValueRange{x, arg({3, 2, 5, 4})},
                                   b.getI64IntegerAttr(3));
  EXPECT_EQ(shapeOf(c), (Shape{3, 2, 5, 11}));
}

TEST_F(InferType, RejectedOperandsAreReportedAtTheLocation) {
  std::string message;
  ScopedDiagnosticHandler handler(&ctx, [&](Diagnostic &d) {
    message = d.str();
    return success();
  });
  Location loc = FileLineColLoc::get(&ctx, "m.pbtxt", 7, 1);
  SmallVector<Type> types;
  nn::DenseOp::Adaptor adaptor({arg({3, 70}), arg({64, 11})});
  EXPECT_TRUE(failed(nn::DenseOp::inferReturnTypes(&ctx, loc, adaptor, types)));
  EXPECT_EQ(message, "expects weight rows 64 to equal input features 70");
  EXPECT_TRUE(types.empty());
}

} // namespace
