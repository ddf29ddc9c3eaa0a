import CS3Curl

/// The client's idle curl handles (CS3Curl's pool), so consecutive requests reuse a connection and its TLS
/// session instead of a handshake each. @unchecked Sendable: the C pool is guarded by its own mutex, and the
/// pointer never changes after init.
final class CurlHandlePool: @unchecked Sendable {
    let pointer: OpaquePointer?

    init() { pointer = s3curl_pool_create() }

    deinit { s3curl_pool_destroy(pointer) }
}
