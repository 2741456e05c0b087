/* mpi_hello.c - MPI check for the pmi package's tests.
 *
 * Every rank prints one line:
 *   hello rank=<r> size=<n> sum=<sum of all ranks> ok|bad
 * and exits 0 when the MPI_Allreduce sum equals n*(n-1)/2.
 * With the argument "abort", rank 1 calls MPI_Abort(MPI_COMM_WORLD, 7)
 * once the Allreduce is done, and the other ranks go on to MPI_Finalize,
 * where they wait until the process manager kills the job.
 */
#include <mpi.h>
#include <stdio.h>
#include <string.h>

int main(int argc, char **argv)
{
    int rank = -1, size = -1, sum = -1, want;
    int do_abort = argc > 1 && strcmp(argv[1], "abort") == 0;

    if (MPI_Init(&argc, &argv) != MPI_SUCCESS)
        return 2;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    MPI_Allreduce(&rank, &sum, 1, MPI_INT, MPI_SUM, MPI_COMM_WORLD);
    want = size * (size - 1) / 2;
    printf("hello rank=%d size=%d sum=%d %s\n", rank, size, sum, sum == want ? "ok" : "bad");
    fflush(stdout);
    if (do_abort && rank == 1)
        MPI_Abort(MPI_COMM_WORLD, 7);
    MPI_Finalize();
    return sum == want ? 0 : 1;
}
