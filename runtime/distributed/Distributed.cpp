//===- Distributed.cpp - data-parallel training over MPI ------------------===//
//
// Collectives are nonblocking (MPI_Iallreduce) and polled against a
// deadline, so a dead or stuck rank turns into an error instead of a hang;
// OpenMPI's mpirun also ends the job when a rank exits abnormally.
//
//===----------------------------------------------------------------------===//

#include "runtime/distributed/Distributed.h"
#include "runtime/jit/Collective.h"
#include "support/Stopwatch.h"

#include "absl/strings/str_cat.h"

#include <mpi.h>

#include <chrono>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>

namespace gradc {
namespace {

World world;
bool joined = false;
double timeout = 60;
AllreduceStats stats;

std::string mpiError(int code) {
  char text[MPI_MAX_ERROR_STRING];
  int length = 0;
  MPI_Error_string(code, text, &length);
  return std::string(text, length);
}

void check(int code, const char *what) {
  if (code != MPI_SUCCESS)
    abortWorld(absl::StrCat(what, " failed: ", mpiError(code)).c_str());
}

/// Waits for `request`, polling, until the deadline.
void await(MPI_Request &request, const char *what) {
  auto deadline =
      std::chrono::steady_clock::now() + std::chrono::duration<double>(timeout);
  for (int flag = 0;;) {
    check(MPI_Test(&request, &flag, MPI_STATUS_IGNORE), what);
    if (flag)
      return;
    if (std::chrono::steady_clock::now() > deadline)
      abortWorld(absl::StrCat(what, " did not complete within ", timeout,
                              " s: another rank has stopped or hangs")
                     .c_str());
    std::this_thread::sleep_for(std::chrono::microseconds(20));
  }
}

/// One MPI_Iallreduce over the world, awaited against the deadline.
void allreduce(const void *send, void *recv, int n, MPI_Datatype type,
               MPI_Op op, const char *what) {
  MPI_Request request;
  check(MPI_Iallreduce(send, recv, n, type, op, MPI_COMM_WORLD, &request),
        what);
  await(request, what);
}

void allreduceMean(float *data, int64_t count) {
  auto start = std::chrono::steady_clock::now();
  for (int64_t done = 0; done < count;) {
    int n = int(std::min<int64_t>(count - done, INT_MAX));
    allreduce(MPI_IN_PLACE, data + done, n, MPI_FLOAT, MPI_SUM,
              "the gradient allreduce");
    done += n;
  }
  float scale = 1.0f / float(world.ranks);
  for (int64_t i = 0; i < count; ++i)
    data[i] *= scale;
  stats.calls++;
  stats.floats = count;
  stats.seconds += secondsSince(start);
}

int envInt(const char *name) {
  const char *v = getenv(name);
  return v && *v ? std::atoi(v) : 0;
}

} // namespace

absl::StatusOr<World> joinWorld(double timeoutSeconds) {
  if (joined)
    return world;
  int size = envInt("OMPI_COMM_WORLD_SIZE");
  if (!size)
    size = envInt("PMI_SIZE");
  if (size <= 1 && !getenv("PMIX_RANK"))
    return World{};
  timeout = timeoutSeconds;
  if (const char *t = getenv("GRADC_MPI_TIMEOUT"); t && *t) {
    char *end = nullptr;
    double v = std::strtod(t, &end);
    if (*end || !(v > 0))
      return absl::InvalidArgumentError(
          absl::StrCat("error: GRADC_MPI_TIMEOUT must be a positive number of "
                       "seconds, got '",
                       t, "'"));
    timeout = v;
  }
  int provided = 0;
  int code = MPI_Init_thread(nullptr, nullptr, MPI_THREAD_FUNNELED, &provided);
  if (code != MPI_SUCCESS)
    return absl::UnavailableError(
        absl::StrCat("error: MPI_Init failed: ", mpiError(code)));
  joined = true;
  MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
  MPI_Comm_rank(MPI_COMM_WORLD, &world.rank);
  MPI_Comm_size(MPI_COMM_WORLD, &world.ranks);
  world.localRanks = envInt("OMPI_COMM_WORLD_LOCAL_SIZE");
  if (world.localRanks < 1)
    world.localRanks = world.ranks;
  setAllreduceMean(allreduceMean);
  return world;
}

void leaveWorld() {
  if (!joined)
    return;
  setAllreduceMean(nullptr);
  MPI_Finalize();
  joined = false;
}

void sumOverRanks(double *values, int64_t n) {
  if (!joined || world.ranks < 2)
    return;
  allreduce(MPI_IN_PLACE, values, int(n), MPI_DOUBLE, MPI_SUM,
            "summing the statistics");
}

bool sameOnAllRanks(uint64_t value) {
  if (!joined || world.ranks < 2)
    return true;
  unsigned long long v[2] = {value, ~value}, r[2];
  allreduce(v, r, 2, MPI_UNSIGNED_LONG_LONG, MPI_MAX, "comparing the weights");
  // max(v) == v and max(~v) == ~v on every rank only if all are equal.
  return r[0] == value && r[1] == ~value;
}

AllreduceStats allreduceStats() { return stats; }

void abortWorld(const char *message) {
  std::fprintf(stderr, "gradc: error: rank %d of %d: %s\n", world.rank,
               world.ranks, message);
  std::fflush(stderr);
  if (joined)
    MPI_Abort(MPI_COMM_WORLD, 1);
  std::exit(1);
}

} // namespace gradc
