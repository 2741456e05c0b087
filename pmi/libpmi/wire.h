/* wire.h - the PMI-1 simple wire protocol client shared by libpmi.so and
 * libpmi2.so (compiled into each; nothing here is exported). */
#ifndef FLUX_GO_PMI_WIRE_H
#define FLUX_GO_PMI_WIRE_H

#include <stddef.h>

/* Return codes: the PMI-1 values, which PMI-2 shares for these. */
#define W_SUCCESS                 0
#define W_FAIL                   -1
#define W_ERR_INIT                1
#define W_ERR_NOMEM               2
#define W_ERR_INVALID_ARG         3
#define W_ERR_INVALID_KEY         4
#define W_ERR_INVALID_KEY_LENGTH  5
#define W_ERR_INVALID_VAL         6
#define W_ERR_INVALID_VAL_LENGTH  7
#define W_ERR_INVALID_LENGTH      8

#define W_HIDDEN __attribute__((visibility("hidden")))

/* What PMI_Init learned; valid while w_state.initialized. */
struct w_state {
    int initialized;
    int singleton; /* a task of a job without PMI: size 1, a private store */
    int fd;
    int rank, size, appnum, universe;
    int kvsname_max, keylen_max, vallen_max;
    char kvsname[257];
};
extern struct w_state w_state W_HIDDEN;

/* w_init connects to the server named by PMI_FD, PMI_RANK, PMI_SIZE and
 * learns the job's description. who names the caller in messages. */
int w_init(const char *who) W_HIDDEN;
int w_finalize(void) W_HIDDEN;
int w_barrier(void) W_HIDDEN;
/* w_put checks key and value against the server's limits first. */
int w_put(const char *key, const char *value) W_HIDDEN;
/* w_get copies the value into value[len] (NUL-terminated); *vallen, when
 * not NULL, gets its length. Not found: W_FAIL. Too long for len:
 * W_ERR_INVALID_LENGTH. */
int w_get(const char *key, char *value, int len, int *vallen) W_HIDDEN;
/* w_abort tells the server and waits to be killed; it does not return. */
void w_abort(int code, const char *msg) __attribute__((noreturn)) W_HIDDEN;
/* w_clique gives the ranks on this node (from PMI_process_mapping; just
 * this rank when there is none). *ranks stays owned by wire.c. */
int w_clique(const int **ranks, int *n) W_HIDDEN;
/* w_error prints "who: message" on stderr. */
void w_error(const char *fmt, ...) __attribute__((format(printf, 1, 2))) W_HIDDEN;

#endif
