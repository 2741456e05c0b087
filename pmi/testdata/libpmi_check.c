/* libpmi_check.c - calls every function of our libpmi.so (PMI-1 API) and
 * checks what it returns; pmi/libpmi_test.go runs it against a real
 * pmi.Server, and scripts/bench-mpi uses its "bench" mode.
 *
 *   libpmi_check all      every call, every error case; prints "ok rank=R"
 *   libpmi_check noinit   PMI_Init outside a job: prints "init rc=N"
 *   libpmi_check init     PMI_Init only: prints "init rc=N"
 *   libpmi_check clique   prints "rank=R clique=A,B,..." (this node's ranks)
 *   libpmi_check singleton  in a job without PMI (FLUX_JOB_ID, no PMI_FD):
 *                         rank 0 of 1 with a private store; "ok singleton"
 *   libpmi_check bench [K [V]]  K rounds (default 5) of put one key of V
 *                         bytes (default 512, a business card), barrier,
 *                         get keys (every rank's in the first round, three
 *                         in the others); rank 0 prints "bench
 *                         size=N rounds=K round=S first=S seconds=S":
 *                         the median time of rounds 2..K (the exchange
 *                         with every rank running), of the first round
 *                         (which waits for the last rank to start), and
 *                         from PMI_Init to the end
 *
 * Exit status 0 when every check passed; each failed check prints
 * "FAIL rank=R: what" and the status is 1.
 */
#include <pmi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static int rank = -1, failed;

#define CHECK(cond, ...)                                  \
    do {                                                  \
        if (!(cond)) {                                    \
            printf("FAIL rank=%d line %d: ", rank, __LINE__); \
            printf(__VA_ARGS__);                          \
            printf("\n");                                 \
            failed = 1;                                   \
        }                                                 \
    } while (0)

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* bench: rounds of put one key, barrier, get every rank's key of the
 * round. The first round waits for the slowest rank to start; the later
 * ones, with every rank running, time the key exchange itself. */
/* card fills v with rank r's value of round k, len bytes: an address and
 * padding, as big as an MPI's business card. */
static void card(char *v, int len, int r, int k)
{
    int n = snprintf(v, (size_t)len + 1, "address-of-rank-%d-round-%d-", r, k);
    for (; n < len; n++)
        v[n] = 'a' + (r + n) % 26;
    v[len] = '\0';
}

static int bench(int rounds, int vallen)
{
    int spawned, size, rc;
    char kvs[256], key[64], val[1025], want[1025];
    double t0 = now(), t, times[64];
    if (rounds < 2 || rounds > 64)
        rounds = 5;
    if (vallen < 32 || vallen > 1024)
        vallen = 512;
    if ((rc = PMI_Init(&spawned)) != PMI_SUCCESS) {
        printf("FAIL: PMI_Init rc=%d\n", rc);
        return 1;
    }
    PMI_Get_rank(&rank);
    PMI_Get_size(&size);
    PMI_KVS_Get_my_name(kvs, sizeof kvs);
    for (int k = 0; k < rounds; k++) {
        t = now();
        snprintf(key, sizeof key, "b%d-%d", k, rank);
        card(val, vallen, rank, k);
        CHECK(PMI_KVS_Put(kvs, key, val) == PMI_SUCCESS, "put");
        CHECK(PMI_KVS_Commit(kvs) == PMI_SUCCESS, "commit");
        CHECK(PMI_Barrier() == PMI_SUCCESS, "barrier");
        /* every rank's key in the first round; then three (the next
         * rank's, the farthest one's, rank 0's), so that the later rounds
         * time the exchange rather than thousands of local gets */
        for (int i = 0; i < (k == 0 ? size : 3); i++) {
            int r = k == 0 ? i : i == 0 ? (rank + 1) % size : i == 1 ? (rank + size / 2) % size : 0;
            snprintf(key, sizeof key, "b%d-%d", k, r);
            card(want, vallen, r, k);
            CHECK(PMI_KVS_Get(kvs, key, val, sizeof val) == PMI_SUCCESS && strcmp(val, want) == 0, "get %s", key);
        }
        times[k] = now() - t;
    }
    if (rank == 0) {
        double first = times[0];
        qsort(times + 1, (size_t)(rounds - 1), sizeof times[0], cmp_double);
        printf("bench size=%d rounds=%d round=%.6f first=%.6f seconds=%.6f\n", size, rounds,
               times[1 + (rounds - 1) / 2], first, now() - t0);
    }
    CHECK(PMI_Finalize() == PMI_SUCCESS, "finalize");
    return failed;
}

int main(int argc, char **argv)
{
    const char *mode = argc > 1 ? argv[1] : "all";
    int spawned = -1, init = -1, size, usize, appnum, n, rc;
    char kvs[256], key[256], val[2048], small[4];
    char *big;

    if (strcmp(mode, "bench") == 0)
        return bench(argc > 2 ? atoi(argv[2]) : 5, argc > 3 ? atoi(argv[3]) : 512);
    if (strcmp(mode, "singleton") == 0) {
        int r = -1;
        CHECK(PMI_Init(&spawned) == PMI_SUCCESS, "Init");
        CHECK(PMI_Get_rank(&r) == PMI_SUCCESS && r == 0, "rank %d", r);
        CHECK(PMI_Get_size(&size) == PMI_SUCCESS && size == 1, "size %d", size);
        CHECK(PMI_Get_universe_size(&usize) == PMI_SUCCESS && usize == 1, "universe %d", usize);
        CHECK(PMI_KVS_Get_my_name(kvs, sizeof kvs) == PMI_SUCCESS, "Get_my_name");
        CHECK(PMI_KVS_Put(kvs, "card", "mine") == PMI_SUCCESS, "Put");
        CHECK(PMI_KVS_Put(kvs, "card", "mine again") == PMI_SUCCESS, "Put again");
        CHECK(PMI_Barrier() == PMI_SUCCESS, "Barrier");
        CHECK(PMI_KVS_Get(kvs, "card", val, sizeof val) == PMI_SUCCESS && strcmp(val, "mine again") == 0, "Get %s", val);
        CHECK(PMI_KVS_Get(kvs, "other", val, sizeof val) == PMI_FAIL, "Get missing");
        CHECK(PMI_KVS_Get(kvs, "card", small, sizeof small) == PMI_ERR_INVALID_LENGTH, "Get into 4 bytes");
        CHECK(PMI_Get_clique_size(&n) == PMI_SUCCESS && n == 1, "clique %d", n);
        memset(key, 'k', 65);
        key[65] = '\0';
        CHECK(PMI_KVS_Put(kvs, key, "v") == PMI_ERR_INVALID_KEY_LENGTH, "Put 65-byte key");
        CHECK(PMI_Finalize() == PMI_SUCCESS, "Finalize");
        if (!failed)
            printf("ok singleton\n");
        return failed;
    }
    if (strcmp(mode, "clique") == 0) {
        int ranks[64];
        CHECK(PMI_Init(&spawned) == PMI_SUCCESS, "Init");
        CHECK(PMI_Get_rank(&rank) == PMI_SUCCESS, "rank");
        CHECK(PMI_Get_clique_size(&n) == PMI_SUCCESS && n > 0 && n <= 64, "clique size %d", n);
        if (failed)
            return 1;
        CHECK(PMI_Get_clique_ranks(ranks, n) == PMI_SUCCESS, "clique ranks");
        printf("rank=%d clique=", rank);
        for (int i = 0; i < n; i++)
            printf("%s%d", i ? "," : "", ranks[i]);
        printf("\n");
        PMI_Finalize();
        return failed;
    }
    if (strcmp(mode, "noinit") == 0 || strcmp(mode, "init") == 0) {
        rc = PMI_Init(&spawned);
        printf("init rc=%d\n", rc);
        fflush(stdout);
        return rc == PMI_SUCCESS ? 0 : 3;
    }

    /* before PMI_Init */
    CHECK(PMI_Initialized(&init) == PMI_SUCCESS && init == PMI_FALSE, "Initialized before Init: %d", init);
    CHECK(PMI_Get_rank(&rank) == PMI_ERR_INIT, "Get_rank before Init");
    CHECK(PMI_Barrier() == PMI_ERR_INIT, "Barrier before Init");
    CHECK(PMI_KVS_Put("x", "k", "v") == PMI_ERR_INIT, "Put before Init");
    CHECK(PMI_Init(NULL) == PMI_ERR_INVALID_ARG, "Init(NULL)");

    rc = PMI_Init(&spawned);
    CHECK(rc == PMI_SUCCESS && spawned == PMI_FALSE, "Init rc=%d spawned=%d", rc, spawned);
    if (rc != PMI_SUCCESS)
        return 1;
    CHECK(PMI_Initialized(&init) == PMI_SUCCESS && init == PMI_TRUE, "Initialized after Init");
    CHECK(PMI_Get_rank(&rank) == PMI_SUCCESS && rank >= 0, "Get_rank");
    CHECK(PMI_Get_size(&size) == PMI_SUCCESS && size > rank, "Get_size");
    CHECK(PMI_Get_universe_size(&usize) == PMI_SUCCESS && usize == size, "Get_universe_size %d", usize);
    CHECK(PMI_Get_appnum(&appnum) == PMI_SUCCESS && appnum == 0, "Get_appnum");
    CHECK(PMI_Get_size(NULL) == PMI_ERR_INVALID_ARG, "Get_size(NULL)");
    CHECK(PMI_KVS_Get_name_length_max(&n) == PMI_SUCCESS && n == 256, "name_length_max %d", n);
    CHECK(PMI_KVS_Get_key_length_max(&n) == PMI_SUCCESS && n == 64, "key_length_max %d", n);
    CHECK(PMI_KVS_Get_value_length_max(&n) == PMI_SUCCESS && n == 1024, "value_length_max %d", n);
    CHECK(PMI_Get_id_length_max(&n) == PMI_SUCCESS && n > 0, "id_length_max");
    CHECK(PMI_KVS_Get_my_name(kvs, sizeof kvs) == PMI_SUCCESS && strncmp(kvs, "flux-", 5) == 0, "Get_my_name %s", kvs);
    CHECK(PMI_KVS_Get_my_name(small, sizeof small) == PMI_ERR_INVALID_LENGTH, "Get_my_name into 4 bytes");
    CHECK(PMI_Get_id(key, sizeof key) == PMI_SUCCESS && strcmp(key, kvs) == 0, "Get_id");
    CHECK(PMI_Get_kvs_domain_id(key, sizeof key) == PMI_SUCCESS && strcmp(key, kvs) == 0, "Get_kvs_domain_id");

    /* clique: the server's PMI_process_mapping puts every rank on one node */
    CHECK(PMI_Get_clique_size(&n) == PMI_SUCCESS && n == size, "Get_clique_size %d", n);
    {
        int ranks[64];
        CHECK(PMI_Get_clique_ranks(ranks, 64) == PMI_SUCCESS && ranks[0] == 0 && ranks[n - 1] == n - 1, "Get_clique_ranks");
        CHECK(PMI_Get_clique_ranks(ranks, 0) == PMI_ERR_INVALID_LENGTH, "Get_clique_ranks into 0");
    }
    CHECK(PMI_KVS_Get(kvs, "PMI_process_mapping", val, sizeof val) == PMI_SUCCESS && strncmp(val, "(vector,", 8) == 0, "mapping %s", val);

    /* puts, their limits, and gets after the barrier */
    snprintf(key, sizeof key, "key-%d", rank);
    snprintf(val, sizeof val, "value of rank %d with spaces and = signs", rank);
    CHECK(PMI_KVS_Put(kvs, key, val) == PMI_SUCCESS, "Put");
    CHECK(PMI_KVS_Put("another-kvs", key, val) == PMI_ERR_INVALID_ARG, "Put to another kvs");
    CHECK(PMI_KVS_Put(kvs, "", "v") == PMI_ERR_INVALID_KEY, "Put empty key");
    CHECK(PMI_KVS_Put(kvs, "with space", "v") == PMI_ERR_INVALID_KEY, "Put key with a space");
    CHECK(PMI_KVS_Put(kvs, "k", "line\nbreak") == PMI_ERR_INVALID_VAL, "Put value with a newline");
    memset(key, 'k', 65);
    key[65] = '\0';
    CHECK(PMI_KVS_Put(kvs, key, "v") == PMI_ERR_INVALID_KEY_LENGTH, "Put 65-byte key");
    big = malloc(1026);
    memset(big, 'v', 1025);
    big[1025] = '\0';
    CHECK(PMI_KVS_Put(kvs, "big", big) == PMI_ERR_INVALID_VAL_LENGTH, "Put 1025-byte value");
    big[1024] = '\0';
    snprintf(key, sizeof key, "max-%d", rank);
    CHECK(PMI_KVS_Put(kvs, key, big) == PMI_SUCCESS, "Put 1024-byte value");
    CHECK(PMI_KVS_Commit(kvs) == PMI_SUCCESS, "Commit");
    CHECK(PMI_KVS_Commit("another-kvs") == PMI_ERR_INVALID_ARG, "Commit another kvs");
    CHECK(PMI_Barrier() == PMI_SUCCESS, "Barrier");
    for (int r = 0; r < size; r++) {
        char want[128];
        snprintf(key, sizeof key, "key-%d", r);
        snprintf(want, sizeof want, "value of rank %d with spaces and = signs", r);
        CHECK(PMI_KVS_Get(kvs, key, val, sizeof val) == PMI_SUCCESS && strcmp(val, want) == 0, "Get %s: %s", key, val);
        snprintf(key, sizeof key, "max-%d", r);
        CHECK(PMI_KVS_Get(kvs, key, val, sizeof val) == PMI_SUCCESS && strcmp(val, big) == 0, "Get %s", key);
    }
    free(big);
    CHECK(PMI_KVS_Get(kvs, "no-such-key", val, sizeof val) == PMI_FAIL, "Get a missing key");
    CHECK(PMI_KVS_Get(kvs, "key-0", small, sizeof small) == PMI_ERR_INVALID_LENGTH, "Get into 4 bytes");
    CHECK(PMI_KVS_Get("another-kvs", "key-0", val, sizeof val) == PMI_ERR_INVALID_ARG, "Get from another kvs");

    /* what the server does not offer */
    CHECK(PMI_Publish_name("svc", "port") == PMI_FAIL, "Publish_name");
    CHECK(PMI_Lookup_name("svc", val) == PMI_FAIL, "Lookup_name");
    CHECK(PMI_Unpublish_name("svc") == PMI_FAIL, "Unpublish_name");
    CHECK(PMI_KVS_Create(val, sizeof val) == PMI_FAIL, "KVS_Create");
    CHECK(PMI_Spawn_multiple(0, NULL, NULL, NULL, NULL, NULL, 0, NULL, NULL) == PMI_FAIL, "Spawn_multiple");

    CHECK(PMI_Barrier() == PMI_SUCCESS, "second Barrier");
    CHECK(PMI_Finalize() == PMI_SUCCESS, "Finalize");
    CHECK(PMI_Initialized(&init) == PMI_SUCCESS && init == PMI_FALSE, "Initialized after Finalize");
    CHECK(PMI_Get_rank(&n) == PMI_ERR_INIT, "Get_rank after Finalize");
    if (!failed)
        printf("ok rank=%d\n", rank);
    return failed;
}
