/* pmi.c - the PMI-1 API (libpmi.so.0) over the wire client in wire.c.
 *
 * Name service, spawn and the KVS iteration and creation calls are not
 * offered by the server: they return PMI_FAIL, which MPIs treat as "not
 * supported". PMI_KVS_Commit is a no-op (a put reaches the server at once;
 * the barrier publishes it).
 */
#include "pmi.h"
#include "wire.h"

#include <stdio.h>
#include <string.h>

#define API __attribute__((visibility("default")))

API int PMI_Init(int *spawned)
{
    if (!spawned)
        return PMI_ERR_INVALID_ARG;
    *spawned = PMI_FALSE;
    return w_init("PMI_Init");
}

API int PMI_Initialized(PMI_BOOL *initialized)
{
    if (!initialized)
        return PMI_ERR_INVALID_ARG;
    *initialized = w_state.initialized ? PMI_TRUE : PMI_FALSE;
    return PMI_SUCCESS;
}

API int PMI_Finalize(void)
{
    return w_finalize();
}

/* get_int is the common shape of the integer getters. */
static int get_int(int *out, const int *v)
{
    if (!w_state.initialized)
        return PMI_ERR_INIT;
    if (!out)
        return PMI_ERR_INVALID_ARG;
    *out = *v;
    return PMI_SUCCESS;
}

API int PMI_Get_size(int *size) { return get_int(size, &w_state.size); }
API int PMI_Get_rank(int *rank) { return get_int(rank, &w_state.rank); }
API int PMI_Get_universe_size(int *size) { return get_int(size, &w_state.universe); }
API int PMI_Get_appnum(int *appnum) { return get_int(appnum, &w_state.appnum); }
API int PMI_KVS_Get_name_length_max(int *length) { return get_int(length, &w_state.kvsname_max); }
API int PMI_KVS_Get_key_length_max(int *length) { return get_int(length, &w_state.keylen_max); }
API int PMI_KVS_Get_value_length_max(int *length) { return get_int(length, &w_state.vallen_max); }
API int PMI_Get_id_length_max(int *length) { return get_int(length, &w_state.kvsname_max); }

API int PMI_Barrier(void)
{
    return w_barrier();
}

API int PMI_Abort(int exit_code, const char error_msg[])
{
    w_abort(exit_code, error_msg);
}

/* copy_name copies the job's KVS name into out[length]. */
static int copy_name(char *out, int length)
{
    if (!w_state.initialized)
        return PMI_ERR_INIT;
    if (!out)
        return PMI_ERR_INVALID_ARG;
    if (length <= 0 || strlen(w_state.kvsname) >= (size_t)length)
        return PMI_ERR_INVALID_LENGTH;
    strcpy(out, w_state.kvsname);
    return PMI_SUCCESS;
}

API int PMI_KVS_Get_my_name(char kvsname[], int length) { return copy_name(kvsname, length); }
API int PMI_Get_id(char id_str[], int length) { return copy_name(id_str, length); }
API int PMI_Get_kvs_domain_id(char id_str[], int length) { return copy_name(id_str, length); }

/* check_kvs refuses a KVS name other than the job's. */
static int check_kvs(const char *kvsname)
{
    if (!w_state.initialized)
        return PMI_ERR_INIT;
    if (!kvsname || strcmp(kvsname, w_state.kvsname) != 0)
        return PMI_ERR_INVALID_ARG;
    return PMI_SUCCESS;
}

API int PMI_KVS_Put(const char kvsname[], const char key[], const char value[])
{
    int rc = check_kvs(kvsname);
    return rc != PMI_SUCCESS ? rc : w_put(key, value);
}

API int PMI_KVS_Commit(const char kvsname[])
{
    return check_kvs(kvsname);
}

API int PMI_KVS_Get(const char kvsname[], const char key[], char value[], int length)
{
    int rc = check_kvs(kvsname);
    return rc != PMI_SUCCESS ? rc : w_get(key, value, length, NULL);
}

API int PMI_Get_clique_size(int *size)
{
    const int *ranks;
    int n, rc;
    if (!size)
        return w_state.initialized ? PMI_ERR_INVALID_ARG : PMI_ERR_INIT;
    if ((rc = w_clique(&ranks, &n)) != PMI_SUCCESS)
        return rc;
    *size = n;
    return PMI_SUCCESS;
}

API int PMI_Get_clique_ranks(int ranks[], int length)
{
    const int *r;
    int n, rc;
    if (!ranks)
        return w_state.initialized ? PMI_ERR_INVALID_ARG : PMI_ERR_INIT;
    if ((rc = w_clique(&r, &n)) != PMI_SUCCESS)
        return rc;
    if (length < n)
        return PMI_ERR_INVALID_LENGTH;
    memcpy(ranks, r, (size_t)n * sizeof(int));
    return PMI_SUCCESS;
}

/* What the server does not offer. */
API int PMI_Publish_name(const char service_name[], const char port[])
{
    (void)service_name, (void)port;
    return PMI_FAIL;
}

API int PMI_Unpublish_name(const char service_name[])
{
    (void)service_name;
    return PMI_FAIL;
}

API int PMI_Lookup_name(const char service_name[], char port[])
{
    (void)service_name, (void)port;
    return PMI_FAIL;
}

API int PMI_KVS_Create(char kvsname[], int length)
{
    (void)kvsname, (void)length;
    return PMI_FAIL;
}

API int PMI_KVS_Destroy(const char kvsname[])
{
    (void)kvsname;
    return PMI_FAIL;
}

API int PMI_KVS_Iter_first(const char kvsname[], char key[], int key_len, char val[], int val_len)
{
    (void)kvsname, (void)key, (void)key_len, (void)val, (void)val_len;
    return PMI_FAIL;
}

API int PMI_KVS_Iter_next(const char kvsname[], char key[], int key_len, char val[], int val_len)
{
    (void)kvsname, (void)key, (void)key_len, (void)val, (void)val_len;
    return PMI_FAIL;
}

API int PMI_Spawn_multiple(int count, const char *cmds[], const char **argvs[], const int maxprocs[],
                           const int info_keyval_sizesp[], const PMI_keyval_t *info_keyval_vectors[],
                           int preput_keyval_size, const PMI_keyval_t preput_keyval_vector[], int errors[])
{
    (void)count, (void)cmds, (void)argvs, (void)maxprocs, (void)info_keyval_sizesp;
    (void)info_keyval_vectors, (void)preput_keyval_size, (void)preput_keyval_vector, (void)errors;
    return PMI_FAIL;
}

API int PMI_Parse_option(int num_args, char *args[], int *num_parsed, PMI_keyval_t **keyvalp, int *size)
{
    (void)num_args, (void)args, (void)num_parsed, (void)keyvalp, (void)size;
    return PMI_FAIL;
}

API int PMI_Args_to_keyval(int *argcp, char *((*argvp)[]), PMI_keyval_t **keyvalp, int *size)
{
    (void)argcp, (void)argvp, (void)keyvalp, (void)size;
    return PMI_FAIL;
}

API int PMI_Free_keyvals(PMI_keyval_t keyvalp[], int size)
{
    (void)keyvalp, (void)size;
    return PMI_SUCCESS;
}

API int PMI_Get_options(char *str, int *length)
{
    (void)str, (void)length;
    return PMI_FAIL;
}
