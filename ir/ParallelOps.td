//===- ParallelOps.td - data-parallel collectives --------------------*- tablegen -*-===//
//
// The Parallel family of nn ops (ir/OpFamilies.def): data-parallel collectives.
// Included by NNOps.td; verifiers and gradient rules in ir/ParallelOps.cpp.
//
//===----------------------------------------------------------------------===//

#ifndef GRADC_NN_PARALLEL_OPS
#define GRADC_NN_PARALLEL_OPS

def NN_AllreduceMeanOp : NN_NonDiffOp<"allreduce_mean"> {
  let summary = "the mean of each tensor over the data-parallel ranks";
  let description = [{
    Every rank of a data-parallel run (`mpirun -np P gradc train`) computes
    the gradients of its share of the global batch; this op returns their
    mean over the `ranks` ranks, in the same order. The lowering packs all
    inputs into one buffer and calls the runtime's
    `gradc_allreduce_mean`, which performs one `MPI_Allreduce`. Not pure:
    it communicates, so it is neither moved, merged nor erased.

    ```mlir
    %a:2 = nn.allreduce_mean %ga, %gb {ranks = 2 : i64}
        : tensor<3x3xf32>, tensor<3xf32> -> tensor<3x3xf32>, tensor<3xf32>
    ```
  }];
  let arguments = (ins Variadic<NN_FloatTensor>:$inputs, I64Attr:$ranks);
  let results = (outs Variadic<NN_FloatTensor>:$outputs);
  let assemblyFormat = "$inputs attr-dict `:` type($inputs) `->` type($outputs)";
  let builders = [OpBuilder<(ins "::mlir::ValueRange":$inputs, "int64_t":$ranks), [{
    build($_builder, $_state, inputs.getTypes(), inputs,
          $_builder.getI64IntegerAttr(ranks));
  }]>];
  let hasVerifier = 1;
}

#endif // GRADC_NN_PARALLEL_OPS
