//===- Collective.h - the runtime side of data-parallel steps ---*- C++ -*-===//
//
// A compiled data-parallel @train_step calls gradc_allreduce_mean (through
// its C interface) with one buffer holding every gradient; the JIT binds
// that symbol to gradcAllreduceMeanEntry, which forwards to the function the
// distributed layer installed (runtime/distributed/Distributed.h: MPI_Iallreduce).
// Without one installed, a call is a fatal error: such a step only runs
// under mpirun.
//
//===----------------------------------------------------------------------===//

#ifndef GRADC_RUNTIME_COLLECTIVE_H
#define GRADC_RUNTIME_COLLECTIVE_H

#include <cstdint>

namespace gradc {

/// The symbol compiled steps call: the C interface of the function
/// nn.allreduce_mean lowers to (ir/NNDialect.h's kAllreduceFunction).
constexpr const char *kAllreduceSymbol = "_mlir_ciface_gradc_allreduce_mean";

/// Averages `count` floats over the ranks, in place.
using AllreduceMeanFn = void (*)(float *data, int64_t count);

/// Installs the allreduce data-parallel steps call (null: none).
void setAllreduceMean(AllreduceMeanFn fn);

/// The C interface of gradc_allreduce_mean(memref<?xf32>): `descriptor` is
/// MLIR's StridedMemRefType<float, 1>.
extern "C" void gradcAllreduceMeanEntry(void *descriptor);

} // namespace gradc

#endif // GRADC_RUNTIME_COLLECTIVE_H
