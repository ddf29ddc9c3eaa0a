#include <curl/curl.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include "CS3Curl.h"

typedef struct {
    const s3curl_request *request;
    s3curl_response *response;
    CURL *curl;
    size_t capacity;
    long long read_position;        /* bytes of the body handed to curl so far */
    int sink_started;               /* a successful body has begun to arrive */
} transfer_t;

static pthread_once_t global_once = PTHREAD_ONCE_INIT;
static void global_init(void) { curl_global_init(CURL_GLOBAL_DEFAULT); }

#define POOL_CAPACITY 16

struct s3curl_pool {
    pthread_mutex_t lock;
    CURL *idle[POOL_CAPACITY];
    int count;
};

s3curl_pool *s3curl_pool_create(void) {
    pthread_once(&global_once, global_init);
    s3curl_pool *pool = calloc(1, sizeof(*pool));
    if (pool) pthread_mutex_init(&pool->lock, NULL);
    return pool;
}

void s3curl_pool_destroy(s3curl_pool *pool) {
    if (!pool) return;
    for (int i = 0; i < pool->count; i++) curl_easy_cleanup(pool->idle[i]);
    pthread_mutex_destroy(&pool->lock);
    free(pool);
}

static CURL *pool_take(s3curl_pool *pool) {
    CURL *curl = NULL;
    if (pool) {
        pthread_mutex_lock(&pool->lock);
        if (pool->count > 0) curl = pool->idle[--pool->count];
        pthread_mutex_unlock(&pool->lock);
    }
    return curl ? curl : curl_easy_init();
}

/* curl_easy_reset clears the options but keeps the handle's connection cache: the next request reuses them. */
static void pool_give_back(s3curl_pool *pool, CURL *curl) {
    if (pool) {
        curl_easy_reset(curl);
        pthread_mutex_lock(&pool->lock);
        if (pool->count < POOL_CAPACITY) {
            pool->idle[pool->count++] = curl;
            curl = NULL;
        }
        pthread_mutex_unlock(&pool->lock);
    }
    if (curl) curl_easy_cleanup(curl);
}

/* An error document is read whatever the cap on a successful body, up to this much. */
#define ERROR_BODY_MAX (64 * 1024)

static size_t append_memory(transfer_t *transfer, const char *chunk, size_t bytes, size_t max) {
    s3curl_response *response = transfer->response;
    if (response->body_length + bytes > max) { response->body_too_large = 1; return 0; }
    if (response->body_length + bytes + 1 > transfer->capacity) {
        size_t capacity = transfer->capacity ? transfer->capacity * 2 : 16384;
        while (capacity < response->body_length + bytes + 1) capacity *= 2;
        char *grown = realloc(response->body, capacity);
        if (!grown) return 0;
        response->body = grown;
        transfer->capacity = capacity;
    }
    memcpy(response->body + response->body_length, chunk, bytes);
    response->body_length += bytes;
    response->body[response->body_length] = 0;
    return bytes;
}

static size_t on_body(char *chunk, size_t size, size_t count, void *context) {
    transfer_t *transfer = (transfer_t *)context;
    size_t bytes = size * count;
    long status = 0;
    curl_easy_getinfo(transfer->curl, CURLINFO_RESPONSE_CODE, &status);
    /* Only a successful body goes to the file: an error's XML is kept (bounded) to be reported. */
    if (status < 200 || status >= 300) return append_memory(transfer, chunk, bytes, ERROR_BODY_MAX);
    if (transfer->request->sink_fd < 0) return append_memory(transfer, chunk, bytes, transfer->request->max_body);
    if (!transfer->sink_started) {
        transfer->sink_started = 1;
        /* Asked for the rest but sent the whole object: start the file again. */
        if (status == 200 && transfer->request->sink_offset > 0) {
            if (ftruncate(transfer->request->sink_fd, 0) != 0 || lseek(transfer->request->sink_fd, 0, SEEK_SET) != 0) {
                transfer->response->sink_errno = errno;
                return 0;
            }
        }
    }
    size_t written = 0;
    while (written < bytes) {
        ssize_t n = write(transfer->request->sink_fd, chunk + written, bytes - written);
        if (n < 0) {
            if (errno == EINTR) continue;
            transfer->response->sink_errno = errno;
            return 0;
        }
        written += (size_t)n;
    }
    transfer->response->sink_bytes += (long long)bytes;
    return bytes;
}

static size_t on_read(char *buffer, size_t size, size_t count, void *context) {
    transfer_t *transfer = (transfer_t *)context;
    const s3curl_request *request = transfer->request;
    size_t wanted = size * count;
    if (request->body_fd >= 0) {
        long long left = request->body_file_length - transfer->read_position;
        if (left <= 0) return 0;
        if ((long long)wanted > left) wanted = (size_t)left;
        for (;;) {
            ssize_t n = pread(request->body_fd, buffer, wanted, (off_t)(request->body_file_offset + transfer->read_position));
            if (n < 0 && errno == EINTR) continue;
            if (n < 0) { transfer->response->source_errno = errno; return CURL_READFUNC_ABORT; }
            if (n == 0) { transfer->response->source_errno = EIO; return CURL_READFUNC_ABORT; } /* file shrank */
            transfer->read_position += n;
            return (size_t)n;
        }
    }
    long long left = (long long)request->body_length - transfer->read_position;
    if (left <= 0) return 0;
    if ((long long)wanted > left) wanted = (size_t)left;
    memcpy(buffer, request->body + transfer->read_position, wanted);
    transfer->read_position += (long long)wanted;
    return wanted;
}

/* curl rewinds the body when it must send it again on the same request (e.g. after a 100-continue refusal). */
static int on_seek(void *context, curl_off_t offset, int origin) {
    transfer_t *transfer = (transfer_t *)context;
    if (origin != SEEK_SET) return CURL_SEEKFUNC_CANTSEEK;
    transfer->read_position = (long long)offset;
    return CURL_SEEKFUNC_OK;
}

static void copy_header_value(const char *line, size_t bytes, size_t name_length, char *out, size_t out_size) {
    const char *value = line + name_length;
    const char *end = line + bytes;
    while (value < end && (*value == ' ' || *value == '\t')) value++;
    while (end > value && (end[-1] == '\r' || end[-1] == '\n' || end[-1] == ' ')) end--;
    size_t length = (size_t)(end - value);
    if (length >= out_size) length = out_size - 1;
    memcpy(out, value, length);
    out[length] = 0;
}

static size_t on_header(char *line, size_t size, size_t count, void *context) {
    s3curl_response *response = ((transfer_t *)context)->response;
    size_t bytes = size * count;
    char number[32];
    if (bytes > 5 && strncasecmp(line, "ETag:", 5) == 0) {
        copy_header_value(line, bytes, 5, response->etag, sizeof(response->etag));
    } else if (bytes > 15 && strncasecmp(line, "Content-Length:", 15) == 0) {
        copy_header_value(line, bytes, 15, number, sizeof(number));
        response->content_length = strtoll(number, NULL, 10);
    } else if (bytes > 12 && strncasecmp(line, "Retry-After:", 12) == 0) {
        copy_header_value(line, bytes, 12, number, sizeof(number));
        response->retry_after = strtol(number, NULL, 10);
    } else if (bytes > 5 && strncmp(line, "HTTP/", 5) == 0) {
        /* A new status line (after a 100 Continue): headers of the earlier one do not count. */
        response->etag[0] = 0;
        response->content_length = -1;
        response->retry_after = -1;
    }
    return bytes;
}

void s3curl_perform(s3curl_pool *pool, const s3curl_request *request, s3curl_response *response) {
    pthread_once(&global_once, global_init);
    memset(response, 0, sizeof(*response));
    response->content_length = -1;
    response->retry_after = -1;
    CURL *curl = pool_take(pool);
    if (!curl) { response->curl_code = -1; snprintf(response->error, sizeof(response->error), "curl_easy_init failed"); return; }
    transfer_t transfer = { request, response, curl, 0, 0, 0 };
    struct curl_slist *headers = NULL;
    for (size_t i = 0; i < request->header_count; i++) headers = curl_slist_append(headers, request->headers[i]);
    char curl_error[CURL_ERROR_SIZE] = {0};

    curl_easy_setopt(curl, CURLOPT_URL, request->url);
    curl_easy_setopt(curl, CURLOPT_PATH_AS_IS, 1L);   /* keys may hold "./" or "//": send them as they are */
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 0L);
    /* Only HTTP(S), whatever the URL says (file://, gopher://, …), and the same for any redirect. */
    curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(curl, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, curl_error);
    curl_easy_setopt(curl, CURLOPT_USERAGENT, "orchestrator-s3");
    if (request->userpwd && request->sigv4) {
        curl_easy_setopt(curl, CURLOPT_USERPWD, request->userpwd);
        curl_easy_setopt(curl, CURLOPT_AWS_SIGV4, request->sigv4);
    }
    curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, request->connect_timeout_ms);
    if (request->total_timeout_ms > 0) curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, request->total_timeout_ms);
    if (request->stall_timeout_s > 0) {
        curl_easy_setopt(curl, CURLOPT_LOW_SPEED_LIMIT, 1L);
        curl_easy_setopt(curl, CURLOPT_LOW_SPEED_TIME, request->stall_timeout_s);
    }
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, &transfer);
    curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(curl, CURLOPT_HEADERDATA, &transfer);

    int has_body = request->body_fd >= 0 || request->body != NULL;
    curl_off_t body_length = request->body_fd >= 0 ? (curl_off_t)request->body_file_length : (curl_off_t)request->body_length;
    if (strcmp(request->method, "HEAD") == 0) {
        curl_easy_setopt(curl, CURLOPT_NOBODY, 1L);
    } else if (strcmp(request->method, "PUT") == 0) {
        curl_easy_setopt(curl, CURLOPT_UPLOAD, 1L);
        curl_easy_setopt(curl, CURLOPT_INFILESIZE_LARGE, has_body ? body_length : (curl_off_t)0);
    } else if (strcmp(request->method, "POST") == 0) {
        curl_easy_setopt(curl, CURLOPT_POST, 1L);
        curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, has_body ? body_length : (curl_off_t)0);
    } else if (strcmp(request->method, "GET") != 0) {
        curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, request->method);
    }
    curl_easy_setopt(curl, CURLOPT_READFUNCTION, on_read);
    curl_easy_setopt(curl, CURLOPT_READDATA, &transfer);
    curl_easy_setopt(curl, CURLOPT_SEEKFUNCTION, on_seek);
    curl_easy_setopt(curl, CURLOPT_SEEKDATA, &transfer);
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);

    CURLcode code = curl_easy_perform(curl);
    response->curl_code = (int)code;
    if (code != CURLE_OK) {
        snprintf(response->error, sizeof(response->error), "%s", curl_error[0] ? curl_error : curl_easy_strerror(code));
    }
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &response->status);
    /* The error buffer lives on this stack frame: unset it before the handle outlives the call. */
    curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, NULL);
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, NULL);
    curl_slist_free_all(headers);
    pool_give_back(pool, curl);
}

void s3curl_free(s3curl_response *response) {
    free(response->body);
    response->body = NULL;
    response->body_length = 0;
}
