/* pmi2.c - the PMI-2 API subset MPIs bootstrap with (libpmi2.so.0), over
 * the PMI-1 wire client in wire.c, as Flux's own libpmi2 does.
 *
 * Mapping onto PMI-1: KVS_Fence is a barrier; the job id is the KVS name;
 * job attribute PMI_process_mapping is the pre-put key of that name and
 * universeSize the universe size. A node attribute is a put under a key
 * that names the node (its lowest rank), which the server shows to the
 * node's other tasks at once; GetNodeAttr with waitfor polls for it for up
 * to a minute. Spawn, connect and the name service return PMI2_FAIL.
 */
#include "pmi2.h"
#include "wire.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#define API __attribute__((visibility("default")))

API int PMI2_Init(int *spawned, int *size, int *rank, int *appnum)
{
    int rc = w_init("PMI2_Init");
    if (rc != PMI2_SUCCESS)
        return rc;
    if (spawned)
        *spawned = 0;
    if (size)
        *size = w_state.size;
    if (rank)
        *rank = w_state.rank;
    if (appnum)
        *appnum = w_state.appnum;
    return PMI2_SUCCESS;
}

API int PMI2_Finalize(void)
{
    return w_finalize();
}

API int PMI2_Initialized(void)
{
    return w_state.initialized;
}

API int PMI2_Abort(int flag, const char msg[])
{
    (void)flag; /* all ranks or this one: either way the job ends */
    w_abort(1, msg);
}

API int PMI2_Job_GetId(char jobid[], int jobid_size)
{
    if (!w_state.initialized)
        return PMI2_ERR_INIT;
    if (!jobid)
        return PMI2_ERR_INVALID_ARG;
    if (jobid_size <= 0 || strlen(w_state.kvsname) >= (size_t)jobid_size)
        return PMI2_ERR_INVALID_LENGTH;
    strcpy(jobid, w_state.kvsname);
    return PMI2_SUCCESS;
}

API int PMI2_Job_GetRank(int *rank)
{
    if (!w_state.initialized)
        return PMI2_ERR_INIT;
    if (!rank)
        return PMI2_ERR_INVALID_ARG;
    *rank = w_state.rank;
    return PMI2_SUCCESS;
}

API int PMI2_Info_GetSize(int *size)
{
    const int *ranks;
    return size ? w_clique(&ranks, size) : PMI2_ERR_INVALID_ARG;
}

API int PMI2_KVS_Put(const char key[], const char value[])
{
    return w_put(key, value);
}

API int PMI2_KVS_Fence(void)
{
    return w_barrier();
}

API int PMI2_KVS_Get(const char *jobid, int src_pmi_id, const char key[], char value[], int maxvalue, int *vallen)
{
    (void)src_pmi_id; /* a hint only */
    if (!w_state.initialized)
        return PMI2_ERR_INIT;
    if (jobid && *jobid && strcmp(jobid, w_state.kvsname) != 0)
        return PMI2_ERR_INVALID_ARG; /* another job's keys: not reachable */
    return w_get(key, value, maxvalue, vallen);
}

/* node_key names attribute name of this node. */
static int node_key(const char *name, char *key, size_t len)
{
    const int *ranks;
    int n, rc;
    if (!name || !*name)
        return PMI2_ERR_INVALID_KEY;
    if ((rc = w_clique(&ranks, &n)) != PMI2_SUCCESS)
        return rc;
    if ((size_t)snprintf(key, len, "node.%d.%s", ranks[0], name) >= len)
        return PMI2_ERR_INVALID_KEY_LENGTH;
    return PMI2_SUCCESS;
}

API int PMI2_Info_PutNodeAttr(const char name[], const char value[])
{
    char key[PMI2_MAX_KEYLEN + 1];
    int rc = node_key(name, key, sizeof key);
    return rc != PMI2_SUCCESS ? rc : w_put(key, value);
}

API int PMI2_Info_GetNodeAttr(const char name[], char value[], int valuelen, int *found, int waitfor)
{
    char key[PMI2_MAX_KEYLEN + 1];
    struct timespec pause = {0, 1000000}; /* 1 ms, doubling to 100 ms */
    double waited = 0;
    int rc = node_key(name, key, sizeof key);
    if (rc != PMI2_SUCCESS)
        return rc;
    if (!found)
        return PMI2_ERR_INVALID_ARG;
    for (;;) {
        rc = w_get(key, value, valuelen, NULL);
        if (rc != PMI2_FAIL) {
            *found = rc == PMI2_SUCCESS;
            return rc;
        }
        if (!waitfor || waited > 60) {
            *found = 0;
            if (waitfor)
                w_error("PMI2_Info_GetNodeAttr: node attribute %s did not appear within a minute", name);
            return waitfor ? PMI2_FAIL : PMI2_SUCCESS;
        }
        nanosleep(&pause, NULL);
        waited += pause.tv_nsec / 1e9;
        if (pause.tv_nsec < 100000000)
            pause.tv_nsec *= 2;
    }
}

API int PMI2_Info_GetJobAttr(const char name[], char value[], int valuelen, int *found)
{
    int rc;
    if (!w_state.initialized)
        return PMI2_ERR_INIT;
    if (!name || !value || !found)
        return PMI2_ERR_INVALID_ARG;
    *found = 0;
    if (strcmp(name, "universeSize") == 0) {
        if (snprintf(value, (size_t)valuelen, "%d", w_state.universe) >= valuelen)
            return PMI2_ERR_INVALID_LENGTH;
        *found = 1;
        return PMI2_SUCCESS;
    }
    if (strcmp(name, "PMI_process_mapping") != 0)
        return PMI2_SUCCESS;
    rc = w_get(name, value, valuelen, NULL);
    if (rc == PMI2_FAIL)
        return PMI2_SUCCESS; /* no mapping: not found */
    *found = rc == PMI2_SUCCESS;
    return rc;
}

/* The integer-array attributes are not offered: not found. */
API int PMI2_Info_GetNodeAttrIntArray(const char name[], int array[], int arraylen, int *outlen, int *found)
{
    (void)name, (void)array, (void)arraylen;
    if (!w_state.initialized)
        return PMI2_ERR_INIT;
    if (outlen)
        *outlen = 0;
    if (found)
        *found = 0;
    return PMI2_SUCCESS;
}

API int PMI2_Info_GetJobAttrIntArray(const char name[], int array[], int arraylen, int *outlen, int *found)
{
    return PMI2_Info_GetNodeAttrIntArray(name, array, arraylen, outlen, found);
}

API int PMI2_Job_Spawn(int count, const char *cmds[], int argcs[], const char **argvs[], const int maxprocs[],
                       const int info_keyval_sizes[], const struct MPID_Info *info_keyval_vectors[],
                       int preput_keyval_size, const struct MPID_Info *preput_keyval_vector[],
                       char jobId[], int jobIdSize, int errors[])
{
    (void)count, (void)cmds, (void)argcs, (void)argvs, (void)maxprocs, (void)info_keyval_sizes;
    (void)info_keyval_vectors, (void)preput_keyval_size, (void)preput_keyval_vector;
    (void)jobId, (void)jobIdSize, (void)errors;
    return PMI2_FAIL;
}

API int PMI2_Job_Connect(const char jobid[], PMI2_Connect_comm_t *conn)
{
    (void)jobid, (void)conn;
    return PMI2_FAIL;
}

API int PMI2_Job_Disconnect(const char jobid[])
{
    (void)jobid;
    return PMI2_FAIL;
}

API int PMI2_Nameserv_publish(const char service_name[], const struct MPID_Info *info_ptr, const char port[])
{
    (void)service_name, (void)info_ptr, (void)port;
    return PMI2_FAIL;
}

API int PMI2_Nameserv_lookup(const char service_name[], const struct MPID_Info *info_ptr, char port[], int portLen)
{
    (void)service_name, (void)info_ptr, (void)port, (void)portLen;
    return PMI2_FAIL;
}

API int PMI2_Nameserv_unpublish(const char service_name[], const struct MPID_Info *info_ptr)
{
    (void)service_name, (void)info_ptr;
    return PMI2_FAIL;
}
