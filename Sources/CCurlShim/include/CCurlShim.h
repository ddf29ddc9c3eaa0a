#ifndef ORCHESTRATOR_CCURLSHIM_H
#define ORCHESTRATOR_CCURLSHIM_H

#include <stddef.h>

/// The result of one HTTP request made through libcurl (curl_easy_setopt is variadic, so Swift cannot call it).
typedef struct {
    int curl_code;          /* CURLE_OK (0) when the transfer completed */
    long status;            /* HTTP status, 0 if none */
    char *body;             /* malloc'd, NUL-terminated; free with orchestrator_http_free */
    size_t body_length;
    long retry_after;       /* seconds from a Retry-After header, -1 if absent */
    char error[256];        /* curl's message when curl_code != 0 */
} orchestrator_http_response;

/// GET `url` with optional `bearer` token (NULL for none), a total timeout in milliseconds and a cap on the
/// body size. Follows no redirects to another host with the token.
orchestrator_http_response orchestrator_http_get(const char *url, const char *bearer, long timeout_ms, size_t max_body);
/// GET for one node asking another (an attempt's log): http and https only, no redirects, no proxy (nodes talk
/// directly, and a proxy would see the bearer token), `connect_timeout_ms` to connect and `timeout_ms` in all, a cap
/// on the body. The token goes in the Authorization header only, never in the URL or the error text.
orchestrator_http_response orchestrator_http_get_node(const char *url, const char *bearer, long connect_timeout_ms, long timeout_ms,
                                                      size_t max_body);
/// POST `body` with the given content type (no redirects followed).
orchestrator_http_response orchestrator_http_post(const char *url, const char *content_type, const char *body, size_t body_length,
                                                  long timeout_ms);
void orchestrator_http_free(orchestrator_http_response *response);
void orchestrator_http_global_init(void);

#endif
