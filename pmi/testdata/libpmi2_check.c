/* libpmi2_check.c - calls the PMI-2 API of our libpmi2.so and checks what
 * it returns; pmi/libpmi_test.go runs it against a real pmi.Server.
 * Prints "ok rank=R" when every check passed (exit 0), else "FAIL ..."
 * lines and exits 1.
 */
#include <pmi2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

int main(void)
{
    int spawned = -1, size = -1, appnum = -1, found = -1, n = -1, rc;
    char jobid[256], key[128], val[PMI2_MAX_VALLEN + 8], small[4], *big;

    CHECK(!PMI2_Initialized(), "Initialized before Init");
    CHECK(PMI2_KVS_Fence() == PMI2_ERR_INIT, "Fence before Init");
    rc = PMI2_Init(&spawned, &size, &rank, &appnum);
    CHECK(rc == PMI2_SUCCESS && spawned == 0 && size > rank && rank >= 0 && appnum == 0, "Init rc=%d", rc);
    if (rc != PMI2_SUCCESS)
        return 1;
    CHECK(PMI2_Initialized(), "Initialized");
    CHECK(PMI2_Job_GetRank(&n) == PMI2_SUCCESS && n == rank, "Job_GetRank");
    CHECK(PMI2_Info_GetSize(&n) == PMI2_SUCCESS && n == size, "Info_GetSize %d", n);
    CHECK(PMI2_Job_GetId(jobid, sizeof jobid) == PMI2_SUCCESS && strncmp(jobid, "flux-", 5) == 0, "Job_GetId %s", jobid);
    CHECK(PMI2_Job_GetId(small, sizeof small) == PMI2_ERR_INVALID_LENGTH, "Job_GetId into 4 bytes");

    CHECK(PMI2_Info_GetJobAttr("PMI_process_mapping", val, sizeof val, &found) == PMI2_SUCCESS && found &&
              strncmp(val, "(vector,", 8) == 0, "GetJobAttr PMI_process_mapping");
    CHECK(PMI2_Info_GetJobAttr("universeSize", val, sizeof val, &found) == PMI2_SUCCESS && found && atoi(val) == size,
          "GetJobAttr universeSize");
    CHECK(PMI2_Info_GetJobAttr("noSuchAttr", val, sizeof val, &found) == PMI2_SUCCESS && !found, "GetJobAttr missing");

    /* node attributes: rank 0 puts, the others wait for it */
    if (rank == 0)
        CHECK(PMI2_Info_PutNodeAttr("shm-handle", "segment-42") == PMI2_SUCCESS, "PutNodeAttr");
    CHECK(PMI2_Info_GetNodeAttr("shm-handle", val, sizeof val, &found, 1) == PMI2_SUCCESS && found &&
              strcmp(val, "segment-42") == 0, "GetNodeAttr waitfor: %s", val);
    CHECK(PMI2_Info_GetNodeAttr("never-put", val, sizeof val, &found, 0) == PMI2_SUCCESS && !found, "GetNodeAttr missing");

    snprintf(key, sizeof key, "p2-%d", rank);
    snprintf(val, sizeof val, "business card %d", rank);
    CHECK(PMI2_KVS_Put(key, val) == PMI2_SUCCESS, "KVS_Put");
    memset(key, 'k', 65);
    key[65] = '\0';
    CHECK(PMI2_KVS_Put(key, "v") == PMI2_ERR_INVALID_KEY_LENGTH, "KVS_Put 65-byte key");
    big = malloc(PMI2_MAX_VALLEN + 2);
    memset(big, 'v', PMI2_MAX_VALLEN + 1);
    big[PMI2_MAX_VALLEN + 1] = '\0';
    CHECK(PMI2_KVS_Put("big", big) == PMI2_ERR_INVALID_VAL_LENGTH, "KVS_Put 1025-byte value");
    free(big);
    CHECK(PMI2_KVS_Fence() == PMI2_SUCCESS, "KVS_Fence");
    for (int r = 0; r < size; r++) {
        char want[64];
        snprintf(key, sizeof key, "p2-%d", r);
        snprintf(want, sizeof want, "business card %d", r);
        n = -1;
        CHECK(PMI2_KVS_Get(jobid, r, key, val, sizeof val, &n) == PMI2_SUCCESS && strcmp(val, want) == 0 &&
                  n == (int)strlen(want), "KVS_Get %s: %s", key, val);
    }
    CHECK(PMI2_KVS_Get(NULL, PMI2_ID_NULL, "p2-0", val, sizeof val, &n) == PMI2_SUCCESS, "KVS_Get without job id");
    CHECK(PMI2_KVS_Get(jobid, 0, "missing", val, sizeof val, &n) == PMI2_FAIL, "KVS_Get missing");
    CHECK(PMI2_KVS_Get("other-job", 0, "p2-0", val, sizeof val, &n) == PMI2_ERR_INVALID_ARG, "KVS_Get another job");
    CHECK(PMI2_Nameserv_publish("svc", NULL, "port") == PMI2_FAIL, "Nameserv_publish");
    CHECK(PMI2_Job_Connect("other-job", NULL) == PMI2_FAIL, "Job_Connect");
    CHECK(PMI2_KVS_Fence() == PMI2_SUCCESS, "second KVS_Fence");
    CHECK(PMI2_Finalize() == PMI2_SUCCESS, "Finalize");
    if (!failed)
        printf("ok rank=%d\n", rank);
    return failed;
}
