/* bench/mpi.c: the speed and memory of --shard-by over MPI ranks (a build --with-mpi).
 * Each rank loads its part of a logistic regression's data file (models/logistic.stan,
 * vi_program_set_shard, the file read as `vi fit --shard-by N` reads it), then times one
 * 32-draw log joint with gradient summed over the ranks as `vi fit` sums it (an
 * all-gather, then the ranks' values added in rank order), best of R repetitions after a
 * warm-up call.  Rank 0 prints the seconds per gradient and each rank's peak RSS (after
 * the load, and at the end) and its rows.  bench/mpi_run runs it on 1 and 2 ranks in one
 * go and prints the ratios.  A timing, not a test.
 *
 *   mpirun -n R bench/mpi MODEL.stan DATA.json [--reps 5] */
#include <math.h>
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <vi/lang.h>
#include <vi/status.h>

static double peak_mb(void)
{
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return ru.ru_maxrss / 1024.0;   /* kB on Linux */
}

/* the values summed over the ranks in rank order, as src/cli/mpi_shard.c does */
static void sum_ranks(double *v, size_t len, double *all, int size)
{
  MPI_Allgather(v, (int)len, MPI_DOUBLE, all, (int)len, MPI_DOUBLE, MPI_COMM_WORLD);
  for (size_t i = 0; i < len; i++) {
    double s = all[i];
    for (int r = 1; r < size; r++) s += all[(size_t)r * len + i];
    v[i] = s;
  }
}

int main(int argc, char **argv)
{
  MPI_Init(&argc, &argv);
  int rank, size, reps = 5;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  if (argc < 3) {
    if (!rank) fprintf(stderr, "usage: mpirun -n R bench/mpi MODEL.stan DATA.json [--reps R]\n");
    MPI_Finalize();
    return 2;
  }
  if (argc >= 5 && !strcmp(argv[3], "--reps")) reps = atoi(argv[4]);
  vi_error err;
  int st;
  vi_program *p = vi_program_compile_file(argv[1], &err, &st);
  if (!p) { fprintf(stderr, "%s\n", err.message); MPI_Abort(MPI_COMM_WORLD, 3); }
  if ((st = vi_program_set_shard(p, "N", (size_t)rank, (size_t)size, &err)) ||
      (st = vi_program_load_data_file(p, argv[2], &err))) {
    fprintf(stderr, "%s\n", err.message);
    MPI_Abort(MPI_COMM_WORLD, 4);
  }
  double load_mb = peak_mb();
  size_t lo, hi, total;
  vi_program_shard_rows(p, &lo, &hi, &total);
  vi_model m;
  vi_program_model(p, &m);
  size_t n = 32, D = m.dim, len = n + n * D;
  double *z = malloc(n * D * sizeof *z), *buf = malloc(len * sizeof *buf);
  double *all = malloc((size_t)size * len * sizeof *all);
  for (size_t i = 0; i < n * D; i++) z[i] = 0.01 * sin((double)i);
  double best = INFINITY;
  for (int k = -1; k < reps; k++) {   /* k = -1: the warm-up */
    MPI_Barrier(MPI_COMM_WORLD);
    struct timespec a, b;
    clock_gettime(CLOCK_MONOTONIC, &a);
    st = m.log_joint(m.ctx, n, z, buf, buf + n);
    sum_ranks(buf, len, all, size);
    clock_gettime(CLOCK_MONOTONIC, &b);
    double t = (double)(b.tv_sec - a.tv_sec) + 1e-9 * (double)(b.tv_nsec - a.tv_nsec);
    MPI_Allreduce(MPI_IN_PLACE, &t, 1, MPI_DOUBLE, MPI_MAX, MPI_COMM_WORLD);
    if (k >= 0 && t < best) best = t;
  }
  double mine[5] = {load_mb, peak_mb(), (double)lo, (double)hi, buf[0]};
  double *every = malloc((size_t)size * 5 * sizeof *every);
  MPI_Gather(mine, 5, MPI_DOUBLE, every, 5, MPI_DOUBLE, 0, MPI_COMM_WORLD);
  if (!rank) {
    printf("ranks %d: N = %zu, D = %zu, one 32-draw gradient %.4f s (best of %d); "
           "lp[0] = %.10g\n", size, total, D, best, reps, buf[0]);
    for (int r = 0; r < size; r++)
      printf("  rank %d: rows [%.0f, %.0f), peak RSS after the load %.0f MB, at the end "
             "%.0f MB\n", r, every[r * 5 + 2], every[r * 5 + 3], every[r * 5],
             every[r * 5 + 1]);
  }
  free(every); free(z); free(buf); free(all);
  vi_program_free(p);
  MPI_Finalize();
  return st ? 1 : 0;
}
