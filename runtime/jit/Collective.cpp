//===- Collective.cpp - the runtime side of data-parallel steps -----------===//

#include "runtime/jit/Collective.h"

#include <atomic>
#include <cstdio>
#include <cstdlib>

namespace gradc {
namespace {
std::atomic<AllreduceMeanFn> installed{nullptr};

/// MLIR's descriptor of a 1-D memref.
struct Memref1D {
  float *allocated;
  float *aligned;
  int64_t offset;
  int64_t size;
  int64_t stride;
};
} // namespace

void setAllreduceMean(AllreduceMeanFn fn) { installed = fn; }

extern "C" void gradcAllreduceMeanEntry(void *descriptor) {
  auto *m = static_cast<Memref1D *>(descriptor);
  AllreduceMeanFn fn = installed;
  if (!fn) {
    std::fprintf(stderr, "gradc: error: a data-parallel step ran without "
                         "MPI (run it under mpirun)\n");
    std::exit(1);
  }
  fn(m->aligned + m->offset, m->size);
}

} // namespace gradc
