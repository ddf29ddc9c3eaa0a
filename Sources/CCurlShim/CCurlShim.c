#include <curl/curl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <stdio.h>
#include "CCurlShim.h"

typedef struct {
    char *data;
    size_t length;
    size_t capacity;
    size_t max;
    int overflow;
} buffer_t;

static size_t on_body(char *chunk, size_t size, size_t count, void *context) {
    buffer_t *buffer = (buffer_t *)context;
    size_t bytes = size * count;
    if (buffer->length + bytes > buffer->max) { buffer->overflow = 1; return 0; }
    if (buffer->length + bytes + 1 > buffer->capacity) {
        size_t capacity = buffer->capacity ? buffer->capacity * 2 : 65536;
        while (capacity < buffer->length + bytes + 1) capacity *= 2;
        char *grown = realloc(buffer->data, capacity);
        if (!grown) return 0;
        buffer->data = grown;
        buffer->capacity = capacity;
    }
    memcpy(buffer->data + buffer->length, chunk, bytes);
    buffer->length += bytes;
    buffer->data[buffer->length] = 0;
    return bytes;
}

static size_t on_header(char *line, size_t size, size_t count, void *context) {
    long *retry_after = (long *)context;
    size_t bytes = size * count;
    if (bytes > 12 && strncasecmp(line, "Retry-After:", 12) == 0) {
        *retry_after = strtol(line + 12, NULL, 10);
    }
    return bytes;
}

void orchestrator_http_global_init(void) { curl_global_init(CURL_GLOBAL_DEFAULT); }

/// The two GETs differ only in what `node` says: a node asking another for a log speaks http(s) only, bypasses any
/// proxy (it would see the token) and ignores Retry-After; extract.http reports Retry-After and accepts compression.
static orchestrator_http_response http_get(const char *url, const char *bearer, long connect_timeout_ms, long timeout_ms,
                                           size_t max_body, int node) {
    orchestrator_http_response response;
    memset(&response, 0, sizeof(response));
    response.retry_after = -1;
    buffer_t buffer = {0};
    buffer.max = max_body;
    CURL *curl = curl_easy_init();
    if (!curl) { response.curl_code = -1; snprintf(response.error, sizeof(response.error), "curl_easy_init failed"); return response; }
    struct curl_slist *headers = NULL;
    char authorization[4096];
    if (bearer && *bearer) {
        snprintf(authorization, sizeof(authorization), "Authorization: Bearer %s", bearer);
        headers = curl_slist_append(headers, authorization);
    }
    headers = curl_slist_append(headers, "Accept: application/json");
    curl_easy_setopt(curl, CURLOPT_URL, url);
    if (node) {
#if LIBCURL_VERSION_NUM >= 0x075500
        curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
#else
        curl_easy_setopt(curl, CURLOPT_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
        curl_easy_setopt(curl, CURLOPT_NOPROXY, "*");
        curl_easy_setopt(curl, CURLOPT_USERAGENT, "orchestrator-node");
    } else {
        curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, on_header);
        curl_easy_setopt(curl, CURLOPT_HEADERDATA, &response.retry_after);
        curl_easy_setopt(curl, CURLOPT_ACCEPT_ENCODING, "");
        curl_easy_setopt(curl, CURLOPT_USERAGENT, "orchestrator-extract-http");
    }
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, timeout_ms);
    curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, connect_timeout_ms);
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, &buffer);
    CURLcode code = curl_easy_perform(curl);
    response.curl_code = (int)code;
    if (code != CURLE_OK) {
        snprintf(response.error, sizeof(response.error), "%s%s", curl_easy_strerror(code),
                 buffer.overflow ? " (response larger than the limit)" : "");
    }
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &response.status);
    response.body = buffer.data;
    response.body_length = buffer.length;
    curl_slist_free_all(headers);
    curl_easy_cleanup(curl);
    return response;
}

orchestrator_http_response orchestrator_http_get(const char *url, const char *bearer, long timeout_ms, size_t max_body) {
    return http_get(url, bearer, timeout_ms < 10000 ? timeout_ms : 10000, timeout_ms, max_body, 0);
}

orchestrator_http_response orchestrator_http_get_node(const char *url, const char *bearer, long connect_timeout_ms, long timeout_ms,
                                                      size_t max_body) {
    return http_get(url, bearer, connect_timeout_ms, timeout_ms, max_body, 1);
}

orchestrator_http_response orchestrator_http_post(const char *url, const char *content_type, const char *body, size_t body_length,
                                                  long timeout_ms) {
    orchestrator_http_response response;
    memset(&response, 0, sizeof(response));
    response.retry_after = -1;
    buffer_t buffer = {0};
    buffer.max = 1 << 20;
    CURL *curl = curl_easy_init();
    if (!curl) { response.curl_code = -1; snprintf(response.error, sizeof(response.error), "curl_easy_init failed"); return response; }
    char type_header[256];
    snprintf(type_header, sizeof(type_header), "Content-Type: %s", content_type);
    struct curl_slist *headers = curl_slist_append(NULL, type_header);
    curl_easy_setopt(curl, CURLOPT_URL, url);
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(curl, CURLOPT_POST, 1L);
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE, (long)body_length);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, timeout_ms);
    curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, timeout_ms);
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, &buffer);
    curl_easy_setopt(curl, CURLOPT_USERAGENT, "orchestrator-notifications");
    CURLcode code = curl_easy_perform(curl);
    response.curl_code = (int)code;
    if (code != CURLE_OK) snprintf(response.error, sizeof(response.error), "%s", curl_easy_strerror(code));
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &response.status);
    response.body = buffer.data;
    response.body_length = buffer.length;
    curl_slist_free_all(headers);
    curl_easy_cleanup(curl);
    return response;
}

void orchestrator_http_free(orchestrator_http_response *response) {
    free(response->body);
    response->body = NULL;
}
