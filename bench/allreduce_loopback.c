/* MPI_Allreduce (sum of floats, in place) between the ranks of one machine:
 * the time per call for sizes from 4 bytes to 16 MiB, medians of 50 calls,
 * and the least-squares fit t = alpha + beta * bytes over the sizes from
 * 64 KiB up (the model of the README's scaling section).
 * Build and run: mpicc -O2 bench/allreduce_loopback.c -o /tmp/allreduce &&
 *   mpirun --allow-run-as-root --oversubscribe -np 2 /tmp/allreduce */
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>

static int compare(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

int main(int argc, char **argv) {
  MPI_Init(&argc, &argv);
  int rank;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  enum { CALLS = 50 };
  double times[CALLS], sx = 0, sy = 0, sxx = 0, sxy = 0;
  int points = 0;
  float *buffer = calloc(1 << 22, sizeof(float));
  if (rank == 0)
    printf("bytes\tmicroseconds per allreduce (median of %d)\n", CALLS);
  for (int n = 1; n <= 1 << 22; n *= 4) {
    for (int i = 0; i < CALLS; ++i) {
      MPI_Barrier(MPI_COMM_WORLD);
      double start = MPI_Wtime();
      MPI_Allreduce(MPI_IN_PLACE, buffer, n, MPI_FLOAT, MPI_SUM,
                    MPI_COMM_WORLD);
      times[i] = MPI_Wtime() - start;
    }
    qsort(times, CALLS, sizeof(double), compare);
    double t = times[CALLS / 2], bytes = 4.0 * n;
    if (rank == 0)
      printf("%.0f\t%.1f\n", bytes, 1e6 * t);
    if (bytes >= 65536) {
      sx += bytes, sy += t, sxx += bytes * bytes, sxy += bytes * t;
      points++;
    }
  }
  double beta = (points * sxy - sx * sy) / (points * sxx - sx * sx);
  double alpha = (sy - beta * sx) / points;
  if (rank == 0)
    printf("fit: alpha %.1f us, beta %.3f ns/byte (%.2f GB/s)\n", 1e6 * alpha,
           1e9 * beta, 1e-9 / beta);
  free(buffer);
  MPI_Finalize();
  return 0;
}
