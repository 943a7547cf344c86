//===- OptimizerOps.td - optimizer updates of one parameter ----------*- tablegen -*-===//
//
// The Optimizer family of nn ops (ir/OpFamilies.def): optimizer updates of one parameter.
// Included by NNOps.td; verifiers and gradient rules in ir/OptimizerOps.cpp.
//
//===----------------------------------------------------------------------===//

#ifndef GRADC_NN_OPTIMIZER_OPS
#define GRADC_NN_OPTIMIZER_OPS

class NN_UpdateOp<string mnemonic, string what> : NN_NonDiffOp<mnemonic, [Pure]> {
  let summary = what # " update of one parameter";
  // The learning rate is either the attribute `learning_rate` (a constant)
  // or the last operand `lr`, a 0-d tensor: @train_step takes it as an input
  // so that a schedule changes it without a recompile.
  let hasVerifier = 1;
  let assemblyFormat = "operands attr-dict `:` functional-type(operands, results)";
}

def NN_SgdUpdateOp : NN_UpdateOp<"sgd_update", "SGD"> {
  let description = [{
    `g' = g + weight_decay * p; p' = p - lr * g'`.

    ```mlir
    %p2 = nn.sgd_update %p, %g {learning_rate = 0.01 : f64} : (tensor<10xf32>, tensor<10xf32>) -> tensor<10xf32>
    ```
  }];
  let arguments = (ins NN_FloatTensor:$param, NN_FloatTensor:$grad,
      OptionalAttr<F64Attr>:$learning_rate,
      DefaultValuedAttr<F64Attr, "0.0">:$weight_decay, Optional<NN_Scalar>:$lr);
  let results = (outs NN_FloatTensor:$new_param);
}

def NN_MomentumUpdateOp : NN_UpdateOp<"momentum_update", "momentum (or Nesterov)"> {
  let description = [{
    PyTorch's rule: `g' = g + wd p; v' = momentum v + g';
    p' = p - lr (nesterov ? g' + momentum v' : v')`.

    ```mlir
    %p2, %v2 = nn.momentum_update %p, %g, %v {learning_rate = 0.01 : f64, momentum = 0.9 : f64, nesterov}
        : (tensor<10xf32>, tensor<10xf32>, tensor<10xf32>) -> (tensor<10xf32>, tensor<10xf32>)
    ```
  }];
  let arguments = (ins NN_FloatTensor:$param, NN_FloatTensor:$grad,
      NN_FloatTensor:$velocity, OptionalAttr<F64Attr>:$learning_rate,
      F64Attr:$momentum, UnitAttr:$nesterov,
      DefaultValuedAttr<F64Attr, "0.0">:$weight_decay, Optional<NN_Scalar>:$lr);
  let results = (outs NN_FloatTensor:$new_param, NN_FloatTensor:$new_velocity);
}

def NN_RmspropUpdateOp : NN_UpdateOp<"rmsprop_update", "RMSprop"> {
  let description = [{
    `g' = g + wd p; s' = rho s + (1 - rho) g'^2; p' = p - lr g' / (sqrt(s') + eps)`.

    ```mlir
    %p2, %s2 = nn.rmsprop_update %p, %g, %s {learning_rate = 0.001 : f64, rho = 0.9 : f64, epsilon = 1.0e-07 : f64}
        : (tensor<10xf32>, tensor<10xf32>, tensor<10xf32>) -> (tensor<10xf32>, tensor<10xf32>)
    ```
  }];
  let arguments = (ins NN_FloatTensor:$param, NN_FloatTensor:$grad,
      NN_FloatTensor:$mean_square, OptionalAttr<F64Attr>:$learning_rate,
      F64Attr:$rho, F64Attr:$epsilon,
      DefaultValuedAttr<F64Attr, "0.0">:$weight_decay, Optional<NN_Scalar>:$lr);
  let results = (outs NN_FloatTensor:$new_param, NN_FloatTensor:$new_mean_square);
}

def NN_AdamUpdateOp : NN_UpdateOp<"adam_update", "Adam (bias-corrected)"> {
  let description = [{
    With `t = step + 1`: `g' = g + wd p; m' = b1 m + (1 - b1) g';
    v' = b2 v + (1 - b2) g'^2; p' = p - lr (m' / (1 - b1^t)) / (sqrt(v' / (1 - b2^t)) + eps)`.

    ```mlir
    %p2, %m2, %v2 = nn.adam_update %p, %g, %m, %v, %step {learning_rate = 0.001 : f64, beta_1 = 0.9 : f64, beta_2 = 0.999 : f64, epsilon = 1.0e-07 : f64}
        : (tensor<10xf32>, tensor<10xf32>, tensor<10xf32>, tensor<10xf32>, tensor<i64>) -> (tensor<10xf32>, tensor<10xf32>, tensor<10xf32>)
    ```
  }];
  let arguments = (ins NN_FloatTensor:$param, NN_FloatTensor:$grad,
      NN_FloatTensor:$m, NN_FloatTensor:$v, NN_StepTensor:$step,
      OptionalAttr<F64Attr>:$learning_rate, F64Attr:$beta_1, F64Attr:$beta_2,
      F64Attr:$epsilon, DefaultValuedAttr<F64Attr, "0.0">:$weight_decay,
      Optional<NN_Scalar>:$lr);
  let results = (outs NN_FloatTensor:$new_param, NN_FloatTensor:$new_m,
      NN_FloatTensor:$new_v);
}

#endif // GRADC_NN_OPTIMIZER_OPS
