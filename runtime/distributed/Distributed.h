//===- Distributed.h - data-parallel training over MPI ----------*- C++ -*-===//
//
// `mpirun -np P gradc train ...`: every rank runs the same compiled step on
// its share of each global batch, and the step averages the gradients with
// one MPI_Allreduce (nn.allreduce_mean, runtime/jit/Collective.h). This layer
// joins the MPI job, installs that allreduce, and sums the host-side
// statistics (losses, counts) over the ranks. MPI calls return errors
// instead of aborting silently, and a collective that does not complete
// within the timeout (a rank died or hangs) ends the job with a line
// naming this rank. A process not started by an MPI launcher never touches
// MPI and is rank 0 of 1.
//
//===----------------------------------------------------------------------===//

#ifndef GRADC_RUNTIME_DISTRIBUTED_H
#define GRADC_RUNTIME_DISTRIBUTED_H

#include "absl/status/statusor.h"

#include <cstdint>

namespace gradc {

struct World {
  int rank = 0;
  int ranks = 1;
  /// Ranks on this machine (to share its cores).
  int localRanks = 1;
  bool distributed() const { return ranks > 1; }
};

/// Joins the MPI job when the process was started by an MPI launcher
/// (OpenMPI's OMPI_COMM_WORLD_SIZE, or PMI_SIZE / PMIX_RANK), installs the
/// gradient allreduce, and returns this rank; otherwise rank 0 of 1.
/// `timeoutSeconds` bounds every collective (GRADC_MPI_TIMEOUT overrides).
absl::StatusOr<World> joinWorld(double timeoutSeconds = 60);

/// Leaves the MPI job (MPI_Finalize), if joined.
void leaveWorld();

/// Sums `n` doubles over the ranks, in place (nothing alone).
void sumOverRanks(double *values, int64_t n);

/// Whether every rank passed the same `value` (true alone).
bool sameOnAllRanks(uint64_t value);

/// The gradient allreduces so far: calls, seconds in them (waiting for the
/// other ranks included) and floats per call.
struct AllreduceStats {
  int64_t calls = 0;
  double seconds = 0;
  int64_t floats = 0;
};
AllreduceStats allreduceStats();

/// Ends the whole job: one line naming this rank, then MPI_Abort.
[[noreturn]] void abortWorld(const char *message);

} // namespace gradc

#endif // GRADC_RUNTIME_DISTRIBUTED_H
