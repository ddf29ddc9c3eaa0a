#ifndef ORCHESTRATOR_CS3CURL_H
#define ORCHESTRATOR_CS3CURL_H

#include <stddef.h>

/// One S3 request made through libcurl (curl_easy_setopt is variadic, so Swift cannot call it).
/// Signing is libcurl's CURLOPT_AWS_SIGV4; the body comes from memory or from a file descriptor, and the
/// response body goes to memory (bounded) or to a file descriptor, so no body is ever held whole by design.
typedef struct {
    const char *method;             /* GET, HEAD, PUT, POST, DELETE */
    const char *url;                /* query already in SigV4 canonical form (curl 7.88 does not sort it) */
    const char *userpwd;            /* "key:secret", or NULL for an unsigned request */
    const char *sigv4;              /* "aws:amz:REGION:s3", or NULL */
    const char *const *headers;     /* "Name: value" lines */
    size_t header_count;
    const unsigned char *body;      /* a body in memory, or NULL */
    size_t body_length;
    int body_fd;                    /* when >= 0: the body is body_file_length bytes of this file from body_file_offset */
    long long body_file_offset;
    long long body_file_length;
    int sink_fd;                    /* when >= 0: a 2xx body is written here; otherwise kept in memory */
    long long sink_offset;          /* bytes already in sink_fd (a resumed download asks for the rest); if the
                                       server answers 200 instead of 206, the file is emptied first */
    size_t max_body;                /* cap on a body kept in memory */
    long connect_timeout_ms;
    long total_timeout_ms;          /* 0: none (streamed transfers rely on the stall timeout) */
    long stall_timeout_s;           /* abort when under 1 byte/s for this long */
} s3curl_request;

typedef struct {
    int curl_code;                  /* CURLE_OK (0) when the transfer completed */
    long status;                    /* HTTP status, 0 if none */
    char *body;                     /* malloc'd; free with s3curl_free. The error body when sink_fd was used */
    size_t body_length;
    int body_too_large;             /* the body went over max_body */
    int sink_errno;                 /* errno of a failed write to sink_fd, 0 if none */
    int source_errno;               /* errno of a failed read of body_fd, 0 if none */
    long long sink_bytes;           /* bytes written to sink_fd */
    long long content_length;       /* from the Content-Length header, -1 if absent */
    long retry_after;               /* seconds from a Retry-After header, -1 if absent */
    char etag[512];                 /* the ETag header, "" if absent */
    char error[256];                /* curl's message when curl_code != 0 */
} s3curl_response;

/// Idle curl handles kept for reuse, so requests to the same server reuse its connection (and TLS session).
/// Thread-safe: any number of threads may perform through one pool at once.
typedef struct s3curl_pool s3curl_pool;
s3curl_pool *s3curl_pool_create(void);
void s3curl_pool_destroy(s3curl_pool *pool);

/// Performs the request on a handle of `pool` (NULL: a fresh handle, closed afterwards).
void s3curl_perform(s3curl_pool *pool, const s3curl_request *request, s3curl_response *response);
void s3curl_free(s3curl_response *response);
/// MD5 of a buffer (S3 wants Content-MD5 on DeleteObjects; it is also the body's integrity check).
void s3curl_md5(const unsigned char *data, size_t length, unsigned char digest[16]);

#endif
