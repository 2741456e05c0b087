/* wire.c - the PMI-1 simple wire protocol (Flux RFC 13) over PMI_FD, for
 * libpmi.so and libpmi2.so.
 *
 * PMI-1 is lock-step: one request line, one reply line (barrier_in's reply
 * comes when every rank has entered). A mutex makes each request-reply pair
 * atomic, for MPIs that call PMI from more than one thread. Every failure
 * returns an error code and, because a PMI failure usually ends the MPI
 * program with a terse message of its own, says on stderr what went wrong.
 * FLUX_PMI_DEBUG=1 traces every line on stderr.
 *
 * A healthy server answers every request but barrier_in at once, so the
 * reply to any other request must begin and end within FLUX_PMI_TIMEOUT
 * seconds (default 60): a server that sends half a line and then nothing
 * gets an error, not a hang. A barrier waits as long as the slowest rank.
 *
 * Without PMI_FD there are two cases. Inside a job (FLUX_JOB_ID is set: a
 * single-task line, or -o pmi=off) the task was started without PMI on
 * purpose, and PMI_Init makes it a singleton, as MPICH does on its own:
 * rank 0 of 1, a private key-value store, barriers that return at once.
 * Outside any job PMI_Init fails at once with a message saying so.
 */
#define _GNU_SOURCE
#include "wire.h"

#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

struct w_state w_state = {.fd = -1};

static pthread_mutex_t w_lock = PTHREAD_MUTEX_INITIALIZER;
static int w_debug = -1;

/* The reply buffer: a reply is at most a get_result with a value of
 * vallen_max bytes, far below this. Bytes past the first '\n' stay for the
 * next read (there are none in lock-step, but a server may send early). */
#define W_BUFSIZE 8192
static char w_buf[W_BUFSIZE + 1];
static size_t w_have;

static int *w_clique_ranks;
static int w_clique_n;

/* The singleton's store: what it put, in a growing array. */
struct w_kv {
    char *key, *value;
};
static struct w_kv *w_store;
static size_t w_nstore, w_capstore;

void w_error(const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (w_state.initialized)
        fprintf(stderr, "libpmi (rank %d): %s\n", w_state.rank, msg);
    else
        fprintf(stderr, "libpmi: %s\n", msg);
}

static int debug(void)
{
    if (w_debug < 0) {
        const char *s = getenv("FLUX_PMI_DEBUG");
        w_debug = s && *s && strcmp(s, "0") != 0;
    }
    return w_debug;
}

/* parse_int reads a whole decimal int; 0 on success. */
static int parse_int(const char *s, int *out)
{
    char *end;
    long v;
    if (!s || !*s)
        return -1;
    errno = 0;
    v = strtol(s, &end, 10);
    if (errno || *end || v < INT_MIN || v > INT_MAX)
        return -1;
    *out = (int)v;
    return 0;
}

static int send_line(const char *line, size_t len)
{
    if (debug())
        fprintf(stderr, "libpmi (rank %d): -> %.*s", w_state.rank, (int)len, line);
    while (len > 0) {
        ssize_t n = send(w_state.fd, line, len, MSG_NOSIGNAL);
        if (n < 0 && errno == ENOTSOCK)
            n = write(w_state.fd, line, len);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            w_error("writing to the PMI server (PMI_FD=%d): %s", w_state.fd, strerror(errno));
            return W_FAIL;
        }
        line += n;
        len -= (size_t)n;
    }
    return W_SUCCESS;
}

/* reply_timeout_ms is FLUX_PMI_TIMEOUT in milliseconds (default 60 s). */
static int reply_timeout_ms(void)
{
    const char *s = getenv("FLUX_PMI_TIMEOUT");
    int v;
    if (s && parse_int(s, &v) == 0 && v > 0 && v < INT_MAX / 1000)
        return v * 1000;
    return 60 * 1000;
}

/* recv_line reads one reply line into w_buf (NUL-terminated, without the
 * '\n') and returns its length, or -1. The bytes after it are kept. With
 * timed, each read must come within reply_timeout_ms. */
static ssize_t recv_line(int timed)
{
    size_t scanned = 0;
    for (;;) {
        char *nl = memchr(w_buf + scanned, '\n', w_have - scanned);
        if (nl) {
            *nl = '\0';
            return nl - w_buf;
        }
        scanned = w_have;
        if (w_have == W_BUFSIZE) {
            w_error("the PMI server sent a line longer than %d bytes; giving up", W_BUFSIZE);
            return -1;
        }
        if (timed) {
            struct pollfd p = {.fd = w_state.fd, .events = POLLIN};
            int ms = reply_timeout_ms(), r = poll(&p, 1, ms);
            if (r < 0 && errno == EINTR)
                continue;
            if (r == 0) {
                w_error("no complete reply from the PMI server in %d s (set FLUX_PMI_TIMEOUT to wait longer)", ms / 1000);
                return -1;
            }
        }
        ssize_t n = read(w_state.fd, w_buf + w_have, W_BUFSIZE - w_have);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            w_error("reading from the PMI server (PMI_FD=%d): %s", w_state.fd, strerror(errno));
            return -1;
        }
        if (n == 0) {
            if (w_have > 0)
                w_error("the PMI server closed the connection inside a reply (\"%.*s\")", (int)(w_have > 80 ? 80 : w_have), w_buf);
            else
                w_error("the PMI server closed the connection");
            return -1;
        }
        w_have += (size_t)n;
    }
}

/* consume drops the line recv_line returned (len bytes plus '\n'). */
static void consume(ssize_t len)
{
    size_t used = (size_t)len + 1;
    memmove(w_buf, w_buf + used, w_have - used);
    w_have -= used;
}

/* field finds key in a reply line and copies its value into out[outlen].
 * Tokens are space-separated key=value; value= runs to the end of the line
 * (values may hold spaces). Returns the value's length, or -1 when the key
 * is missing, or -2 when the value does not fit. */
static int field(const char *line, const char *key, char *out, size_t outlen)
{
    size_t klen = strlen(key);
    const char *p = line;
    while (*p) {
        while (*p == ' ')
            p++;
        const char *end = strchr(p, ' ');
        if (strncmp(p, "value=", 6) == 0)
            end = p + strlen(p);
        else if (!end)
            end = p + strlen(p);
        if ((size_t)(end - p) > klen && strncmp(p, key, klen) == 0 && p[klen] == '=') {
            const char *v = p + klen + 1;
            size_t vlen = (size_t)(end - v);
            if (vlen + 1 > outlen)
                return -2;
            memcpy(out, v, vlen);
            out[vlen] = '\0';
            return (int)vlen;
        }
        p = end;
    }
    return -1;
}

/* request sends line and reads the reply, which must be cmd=want; the reply
 * is left in w_buf for field() until the next request. Called with w_lock. */
static ssize_t reply_len = -1;
static int request(const char *line, const char *want)
{
    char cmd[64];
    if (reply_len >= 0) {
        consume(reply_len);
        reply_len = -1;
    }
    if (send_line(line, strlen(line)) != W_SUCCESS)
        return W_FAIL;
    ssize_t n = recv_line(strcmp(want, "barrier_out") != 0);
    if (n < 0)
        return W_FAIL;
    reply_len = n;
    if (debug())
        fprintf(stderr, "libpmi (rank %d): <- %s\n", w_state.rank, w_buf);
    if (field(w_buf, "cmd", cmd, sizeof cmd) < 0 || strcmp(cmd, want) != 0) {
        w_error("expected cmd=%s from the PMI server, got \"%.100s\"", want, w_buf);
        return W_FAIL;
    }
    return W_SUCCESS;
}

/* reply_rc is the reply's rc= (0 when absent, as for maxes). */
static int reply_rc(void)
{
    char rc[32];
    int v;
    if (field(w_buf, "rc", rc, sizeof rc) < 0)
        return 0;
    if (parse_int(rc, &v) != 0)
        return -1;
    return v;
}

/* reply_int reads an integer field of the reply. */
static int reply_int(const char *key, int *out)
{
    char v[32];
    if (field(w_buf, key, v, sizeof v) < 0 || parse_int(v, out) != 0) {
        w_error("the PMI server's reply \"%.100s\" has no integer %s=", w_buf, key);
        return W_FAIL;
    }
    return W_SUCCESS;
}

static int env_int(const char *name, int *out)
{
    const char *s = getenv(name);
    if (!s) {
        w_error("%s is not set: this program was not started by a process manager that serves PMI "
                "(run it with `flux run -n N`, as a line of flux-capacitor, or under mpiexec)", name);
        return W_FAIL;
    }
    if (parse_int(s, out) != 0 || *out < 0) {
        w_error("%s=\"%.40s\" is not a non-negative integer", name, s);
        return W_FAIL;
    }
    return W_SUCCESS;
}

/* init_singleton describes a job of one task with no server. */
static int init_singleton(void)
{
    w_state.singleton = 1;
    w_state.fd = -1;
    w_state.rank = 0;
    w_state.size = w_state.universe = 1;
    w_state.appnum = 0;
    w_state.kvsname_max = 256;
    w_state.keylen_max = 64;
    w_state.vallen_max = 1024;
    snprintf(w_state.kvsname, sizeof w_state.kvsname, "flux-singleton-%ld", (long)getpid());
    if (debug())
        fprintf(stderr, "libpmi: no PMI_FD in job %s: a singleton\n", getenv("FLUX_JOB_ID"));
    return W_SUCCESS;
}

static int init_locked(void)
{
    int fd, rc;
    if (!getenv("PMI_FD") && getenv("FLUX_JOB_ID"))
        return init_singleton();
    if (env_int("PMI_FD", &fd) || env_int("PMI_RANK", &w_state.rank) || env_int("PMI_SIZE", &w_state.size))
        return W_FAIL;
    if (w_state.size < 1 || w_state.rank >= w_state.size) {
        w_error("PMI_RANK=%d and PMI_SIZE=%d: want a rank below the size", w_state.rank, w_state.size);
        return W_FAIL;
    }
    w_state.fd = fd;
    w_have = 0;
    reply_len = -1;
    if (request("cmd=init pmi_version=1 pmi_subversion=1\n", "response_to_init") != W_SUCCESS)
        return W_FAIL;
    if ((rc = reply_rc()) != 0) {
        w_error("the PMI server refused PMI-1.1 (rc=%d)", rc);
        return W_FAIL;
    }
    if (request("cmd=get_maxes\n", "maxes") != W_SUCCESS || reply_int("kvsname_max", &w_state.kvsname_max) ||
        reply_int("keylen_max", &w_state.keylen_max) || reply_int("vallen_max", &w_state.vallen_max))
        return W_FAIL;
    if (request("cmd=get_appnum\n", "appnum") != W_SUCCESS || reply_int("appnum", &w_state.appnum))
        return W_FAIL;
    if (request("cmd=get_universe_size\n", "universe_size") != W_SUCCESS || reply_int("size", &w_state.universe))
        return W_FAIL;
    if (request("cmd=get_my_kvsname\n", "my_kvsname") != W_SUCCESS)
        return W_FAIL;
    if (field(w_buf, "kvsname", w_state.kvsname, sizeof w_state.kvsname) <= 0) {
        w_error("the PMI server's reply \"%.100s\" has no kvsname=", w_buf);
        return W_FAIL;
    }
    return W_SUCCESS;
}

int w_init(const char *who)
{
    int rc;
    pthread_mutex_lock(&w_lock);
    if (w_state.initialized) {
        pthread_mutex_unlock(&w_lock);
        return W_SUCCESS;
    }
    rc = init_locked();
    if (rc == W_SUCCESS)
        w_state.initialized = 1;
    else
        w_error("%s failed", who);
    pthread_mutex_unlock(&w_lock);
    return rc;
}

int w_finalize(void)
{
    int rc = W_SUCCESS;
    pthread_mutex_lock(&w_lock);
    if (w_state.initialized && w_state.singleton) {
        for (size_t i = 0; i < w_nstore; i++) {
            free(w_store[i].key);
            free(w_store[i].value);
        }
        free(w_store);
        w_store = NULL;
        w_nstore = w_capstore = 0;
        w_state.initialized = w_state.singleton = 0;
    } else if (w_state.initialized) {
        if (request("cmd=finalize\n", "finalize_ack") != W_SUCCESS || reply_rc() != 0)
            rc = W_FAIL;
        close(w_state.fd);
        w_state.fd = -1;
        w_state.initialized = 0;
        free(w_clique_ranks);
        w_clique_ranks = NULL;
        w_clique_n = 0;
    }
    pthread_mutex_unlock(&w_lock);
    return rc;
}

int w_barrier(void)
{
    int rc;
    if (!w_state.initialized)
        return W_ERR_INIT;
    if (w_state.singleton)
        return W_SUCCESS;
    pthread_mutex_lock(&w_lock);
    rc = request("cmd=barrier_in\n", "barrier_out");
    if (rc == W_SUCCESS && reply_rc() != 0) {
        w_error("the barrier failed: \"%.100s\"", w_buf);
        rc = W_FAIL;
    }
    pthread_mutex_unlock(&w_lock);
    return rc;
}

/* store_put keeps a singleton's put (a second put of a key replaces it;
 * a job of one has no one to disagree with). */
static int store_put(const char *key, const char *value)
{
    int rc = W_SUCCESS;
    pthread_mutex_lock(&w_lock);
    for (size_t i = 0; i < w_nstore; i++)
        if (strcmp(w_store[i].key, key) == 0) {
            char *v = strdup(value);
            if (!v) {
                rc = W_ERR_NOMEM;
            } else {
                free(w_store[i].value);
                w_store[i].value = v;
            }
            pthread_mutex_unlock(&w_lock);
            return rc;
        }
    if (w_nstore == w_capstore) {
        size_t cap = w_capstore ? 2 * w_capstore : 16;
        struct w_kv *s = realloc(w_store, cap * sizeof *s);
        if (!s) {
            pthread_mutex_unlock(&w_lock);
            return W_ERR_NOMEM;
        }
        w_store = s;
        w_capstore = cap;
    }
    w_store[w_nstore].key = strdup(key);
    w_store[w_nstore].value = strdup(value);
    if (!w_store[w_nstore].key || !w_store[w_nstore].value) {
        free(w_store[w_nstore].key);
        free(w_store[w_nstore].value);
        rc = W_ERR_NOMEM;
    } else {
        w_nstore++;
    }
    pthread_mutex_unlock(&w_lock);
    return rc;
}

/* store_get reads a singleton's store; PMI_process_mapping is one node of
 * one task. */
static int store_get(const char *key, char *value, int len, int *vallen)
{
    const char *v = NULL;
    int rc = W_SUCCESS;
    pthread_mutex_lock(&w_lock);
    if (strcmp(key, "PMI_process_mapping") == 0)
        v = "(vector,(0,1,1))";
    for (size_t i = 0; !v && i < w_nstore; i++)
        if (strcmp(w_store[i].key, key) == 0)
            v = w_store[i].value;
    if (!v)
        rc = W_FAIL;
    else if (strlen(v) >= (size_t)len)
        rc = W_ERR_INVALID_LENGTH;
    else {
        strcpy(value, v);
        if (vallen)
            *vallen = (int)strlen(v);
    }
    pthread_mutex_unlock(&w_lock);
    return rc;
}

/* check_word refuses what the wire cannot carry in a key: spaces, '=',
 * line ends. */
static int check_word(const char *s)
{
    return strpbrk(s, " =\n\r\t") == NULL;
}

int w_put(const char *key, const char *value)
{
    char *line;
    int rc, n;
    if (!w_state.initialized)
        return W_ERR_INIT;
    if (!key || !*key || !check_word(key))
        return W_ERR_INVALID_KEY;
    if (strlen(key) > (size_t)w_state.keylen_max)
        return W_ERR_INVALID_KEY_LENGTH;
    if (!value || strpbrk(value, "\n\r"))
        return W_ERR_INVALID_VAL;
    if (strlen(value) > (size_t)w_state.vallen_max)
        return W_ERR_INVALID_VAL_LENGTH;
    if (w_state.singleton)
        return store_put(key, value);
    n = asprintf(&line, "cmd=put kvsname=%s key=%s value=%s\n", w_state.kvsname, key, value);
    if (n < 0)
        return W_ERR_NOMEM;
    pthread_mutex_lock(&w_lock);
    rc = request(line, "put_result");
    if (rc == W_SUCCESS && reply_rc() != 0) {
        w_error("put %s refused: \"%.120s\"", key, w_buf);
        rc = W_FAIL;
    }
    pthread_mutex_unlock(&w_lock);
    free(line);
    return rc;
}

int w_get(const char *key, char *value, int len, int *vallen)
{
    char *line;
    int rc, n;
    if (!w_state.initialized)
        return W_ERR_INIT;
    if (!key || !*key || !check_word(key))
        return W_ERR_INVALID_KEY;
    if (strlen(key) > (size_t)w_state.keylen_max)
        return W_ERR_INVALID_KEY_LENGTH;
    if (!value || len <= 0)
        return W_ERR_INVALID_LENGTH;
    if (w_state.singleton)
        return store_get(key, value, len, vallen);
    n = asprintf(&line, "cmd=get kvsname=%s key=%s\n", w_state.kvsname, key);
    if (n < 0)
        return W_ERR_NOMEM;
    pthread_mutex_lock(&w_lock);
    rc = request(line, "get_result");
    if (rc == W_SUCCESS) {
        if (reply_rc() != 0) {
            rc = W_FAIL; /* not found: no message, callers probe for keys */
        } else {
            n = field(w_buf, "value", value, (size_t)len);
            if (n == -2)
                rc = W_ERR_INVALID_LENGTH;
            else if (n < 0) {
                w_error("the PMI server's get_result \"%.100s\" has no value=", w_buf);
                rc = W_FAIL;
            } else if (vallen)
                *vallen = n;
        }
    }
    pthread_mutex_unlock(&w_lock);
    free(line);
    return rc;
}

void w_abort(int code, const char *msg)
{
    char clean[512], *line;
    size_t i;
    snprintf(clean, sizeof clean, "%s", msg ? msg : "");
    for (i = 0; clean[i]; i++)
        if (clean[i] == '\n' || clean[i] == '\r' || clean[i] == '=')
            clean[i] = ' ';
    if (!w_state.initialized || w_state.singleton) {
        w_error("abort with exit code %d: %s", code, clean);
        _exit(code);
    }
    pthread_mutex_lock(&w_lock);
    if (asprintf(&line, "cmd=abort exitcode=%d msg=%s\n", code, clean) >= 0)
        send_line(line, strlen(line));
    /* No reply comes: the server kills the job. Should it close the
     * connection instead, leave with the code. */
    for (;;) {
        char c;
        ssize_t n = read(w_state.fd, &c, 1);
        if (n == 0 || (n < 0 && errno != EINTR))
            _exit(code);
    }
}

/* parse_mapping finds the node of rank in a PMI_process_mapping value
 * "(vector,(start,nodes,ppn),...)" and lists the ranks on it. Ranks are
 * numbered block by block, node by node. Returns 0 on success. */
static int parse_mapping(const char *m, int rank, int size)
{
    int blocks[64][3], nb = 0, r, b, k, node = -1, n = 0;
    const char *p = strstr(m, "vector,");
    if (!p)
        return -1;
    p += 7;
    while (*p == '(' && nb < 64) {
        if (sscanf(p, "(%d,%d,%d)", &blocks[nb][0], &blocks[nb][1], &blocks[nb][2]) != 3)
            return -1;
        if (blocks[nb][0] < 0 || blocks[nb][1] < 1 || blocks[nb][2] < 1)
            return -1;
        nb++;
        p = strchr(p, ')');
        if (!p)
            return -1;
        p++;
        if (*p == ',')
            p++;
    }
    if (nb == 0)
        return -1;
    /* first pass: the node of rank; second: the ranks on that node */
    for (int pass = 0; pass < 2; pass++) {
        r = 0;
        for (b = 0; b < nb && r < size; b++)
            for (k = 0; k < blocks[b][1] && r < size; k++) {
                int nd = blocks[b][0] + k;
                for (int t = 0; t < blocks[b][2] && r < size; t++, r++) {
                    if (pass == 0 && r == rank)
                        node = nd;
                    else if (pass == 1 && nd == node)
                        w_clique_ranks[n++] = r;
                }
            }
        if (pass == 0) {
            if (node < 0)
                return -1;
            w_clique_ranks = calloc((size_t)size, sizeof(int));
            if (!w_clique_ranks)
                return -1;
        }
    }
    w_clique_n = n;
    return 0;
}

int w_clique(const int **ranks, int *n)
{
    if (!w_state.initialized)
        return W_ERR_INIT;
    if (!w_clique_ranks) {
        char *m = malloc((size_t)w_state.vallen_max + 1);
        int ok = m && w_get("PMI_process_mapping", m, w_state.vallen_max + 1, NULL) == W_SUCCESS &&
                 parse_mapping(m, w_state.rank, w_state.size) == 0;
        free(m);
        if (!ok) {
            free(w_clique_ranks);
            w_clique_ranks = malloc(sizeof(int));
            if (!w_clique_ranks)
                return W_ERR_NOMEM;
            w_clique_ranks[0] = w_state.rank;
            w_clique_n = 1;
        }
    }
    *ranks = w_clique_ranks;
    *n = w_clique_n;
    return W_SUCCESS;
}
