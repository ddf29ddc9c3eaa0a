import CS3Curl
import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Sends requests through libcurl: signs them, retries what is worth retrying, and turns failures into S3Errors.
struct S3Transport: Sendable {
    let configuration: S3Configuration
    let credentials: S3Credentials
    let handles = CurlHandlePool()

    /// Sends `request`, retrying transient failures; 2xx comes back, anything else is thrown. A download into a
    /// file that breaks off resumes where it stopped (Range, with If-Match on the ETag so the rest is of the same
    /// object); if the object changed meanwhile (412), it starts over.
    func send(_ request: S3Request) throws(S3Error) -> S3Response {
        var attempt = 1
        var resume: (offset: Int64, etag: String)?
        while true {
            var attemptRequest = request
            if case .file(let descriptor) = request.sink {
                let offset = resume?.offset ?? 0
                if let resume { attemptRequest.headers += ["Range: bytes=\(resume.offset)-", "If-Match: \(resume.etag)"] }
                if ftruncate(descriptor, off_t(offset)) != 0 || lseek(descriptor, off_t(offset), SEEK_SET) != off_t(offset) {
                    throw S3Error(kind: .localFile, operation: request.operation, message: "cannot rewind the download file: \(errnoText())")
                }
                attemptRequest.sinkOffset = offset
            }
            let (response, failure) = perform(attemptRequest)
            guard var error = failure else {
                var result = response
                if let resume, response.status == 206 {
                    result.bytesWritten += resume.offset
                    result.contentLength = result.contentLength.map { $0 + resume.offset }
                }
                return result
            }
            if resume != nil && error.status == 412 {
                // The object was replaced between attempts: what is in the file belongs to the old one.
                resume = nil
                error = S3Error(kind: .server, operation: request.operation, message: "the object changed while it was being downloaded")
            } else if case .file = request.sink, error.isRetryable, [200, 206].contains(response.status),
                      !response.etag.isEmpty, response.bytesWritten > 0 {
                let base = response.status == 206 ? (resume?.offset ?? 0) : 0
                resume = (base + response.bytesWritten, response.etag)
            }
            guard error.isRetryable, attempt < max(1, configuration.maxAttempts) else {
                error.attempts = attempt
                if attempt > 1 { error.message += " (after \(attempt) attempts)" }
                throw error
            }
            sleepBeforeRetry(attempt: attempt, retryAfter: error.retryAfter)
            attempt += 1
        }
    }

    /// Full jitter (AWS's recommendation): a random wait in 0...base·2^(attempt-1), capped; a server's
    /// Retry-After, when given and not longer than the cap, is the floor.
    private func sleepBeforeRetry(attempt: Int, retryAfter: Int?) {
        let ceiling = min(configuration.retryMaxDelay, configuration.retryBaseDelay * Double(1 << min(attempt - 1, 20)))
        var delay = Double.random(in: 0...max(0, ceiling))
        if let retryAfter, Double(retryAfter) <= configuration.retryMaxDelay { delay = max(delay, Double(retryAfter)) }
        if delay > 0 { Thread.sleep(forTimeInterval: delay) }   // usleep is specified only below one second
    }

    /// One attempt: what came back (status, headers, bytes written — also when the transfer broke off) and the
    /// failure, if it is one.
    private func perform(_ request: S3Request) -> (S3Response, S3Error?) {
        var headers = request.headers
        // libcurl 7.88 signs the payload hash it is given: the body is not hashed (it is streamed), which S3,
        // MinIO and moto accept; Content-MD5 covers the small bodies built here.
        headers.append("x-amz-content-sha256: UNSIGNED-PAYLOAD")
        if let token = credentials.sessionToken { headers.append("x-amz-security-token: \(token)") }
        let userpwd = "\(credentials.accessKeyId):\(credentials.secretAccessKey)"
        let sigv4 = "aws:amz:\(configuration.region):s3"
        var response = s3curl_response()
        let cHeaders = headers.map { strdup($0) }
        defer { cHeaders.forEach { free($0) } }
        let bodyBytes: [UInt8]
        if case .bytes(let bytes) = request.body { bodyBytes = bytes } else { bodyBytes = [] }
        request.method.withCString { method in
            request.url.withCString { url in
                userpwd.withCString { userpwd in
                    sigv4.withCString { sigv4 in
                        cHeaders.map { UnsafePointer($0) }.withUnsafeBufferPointer { headerPointers in
                            bodyBytes.withUnsafeBufferPointer { body in
                                var curlRequest = s3curl_request()
                                curlRequest.method = method
                                curlRequest.url = url
                                curlRequest.userpwd = userpwd
                                curlRequest.sigv4 = sigv4
                                curlRequest.headers = headerPointers.baseAddress
                                curlRequest.header_count = headerPointers.count
                                curlRequest.body_fd = -1
                                curlRequest.sink_fd = -1
                                switch request.body {
                                case .none: break
                                case .bytes:
                                    // A non-NULL pointer even for an empty body: NULL means "no body".
                                    curlRequest.body = body.baseAddress ?? UnsafePointer(bitPattern: 1)
                                    curlRequest.body_length = body.count
                                case .file(let descriptor, let offset, let length):
                                    curlRequest.body_fd = descriptor
                                    curlRequest.body_file_offset = offset
                                    curlRequest.body_file_length = length
                                }
                                switch request.sink {
                                case .memory(let maxBytes): curlRequest.max_body = maxBytes
                                case .file(let descriptor):
                                    curlRequest.sink_fd = descriptor
                                    curlRequest.sink_offset = request.sinkOffset
                                    curlRequest.max_body = 64 << 10   // an error document
                                }
                                curlRequest.connect_timeout_ms = Int(configuration.connectTimeout * 1000)
                                curlRequest.total_timeout_ms = request.streamed ? 0 : Int(configuration.requestTimeout * 1000)
                                curlRequest.stall_timeout_s = max(1, Int(configuration.requestTimeout.rounded(.up)))
                                s3curl_perform(handles.pointer, &curlRequest, &response)
                            }
                        }
                    }
                }
            }
        }
        defer { s3curl_free(&response) }
        let body = response.body.map { Array(UnsafeRawBufferPointer(start: $0, count: response.body_length)) } ?? []
        let result = S3Response(status: response.status, body: body, etag: cString(&response.etag),
                                contentLength: response.content_length >= 0 ? response.content_length : nil,
                                retryAfter: response.retry_after >= 0 ? response.retry_after : nil,
                                bytesWritten: response.sink_bytes)
        if response.curl_code != 0 {
            return (result, curlFailure(response: &response, request: request))
        }
        if (200..<300).contains(result.status) { return (result, nil) }
        return (result, httpFailure(result, operation: request.operation))
    }

    private func curlFailure(response: inout s3curl_response, request: S3Request) -> S3Error {
        let detail = cString(&response.error)
        if response.sink_errno != 0 {
            return mask(S3Error(kind: .localFile, operation: request.operation, message: "cannot write the download: \(String(cString: strerror(response.sink_errno)))"))
        }
        if response.source_errno != 0 {
            return mask(S3Error(kind: .localFile, operation: request.operation, message: "cannot read the upload: \(String(cString: strerror(response.source_errno)))"))
        }
        if response.body_too_large != 0, case .memory(let maxBytes) = request.sink {
            return S3Error(kind: .badResponse, operation: request.operation, message: "the response is larger than \(maxBytes) bytes", status: response.status)
        }
        let (kind, retryable) = S3ErrorClassifier.kind(forCurlCode: response.curl_code)
        let host = S3Transport.hostOf(request.url)
        var error = S3Error(kind: kind, operation: request.operation, message: "\(host): \(detail)")
        error.neverRetry = !retryable
        return mask(error)
    }

    /// An HTTP error: S3's <Error><Code> decides the kind when present, the status otherwise. 4xx other than 429
    /// is never retried, whatever its code says.
    func httpFailure(_ response: S3Response, operation: String) -> S3Error {
        let document = S3XML(response.body).first("Error")
        let code = document?.text("Code").flatMap { $0.isEmpty ? nil : $0 }
        let serverMessage = document?.text("Message") ?? ""
        let kind = code.flatMap(S3ErrorClassifier.kind(forCode:)) ?? S3ErrorClassifier.kind(forStatus: response.status)
        var message = "HTTP \(response.status)"
        if let code { message += " \(code)" }
        if !serverMessage.isEmpty { message += ": \(serverMessage.prefix(300))" }
        var error = S3Error(kind: kind, operation: operation, message: message, code: code, status: response.status)
        error.retryAfter = response.retryAfter
        if (400..<500).contains(response.status) && response.status != 429 { error.neverRetry = true }
        return mask(error)
    }

    /// Whatever a server or curl says, the secret and the session token are cut out of it.
    func mask(_ error: S3Error) -> S3Error {
        var masked = error
        for secret in credentials.secrets where !secret.isEmpty {
            masked.message = masked.message.replacingOccurrences(of: secret, with: "***")
            masked.operation = masked.operation.replacingOccurrences(of: secret, with: "***")
        }
        return masked
    }

    static func hostOf(_ url: String) -> String {
        guard let schemeEnd = url.range(of: "://") else { return url }
        let rest = url[schemeEnd.upperBound...]
        let hostEnd = rest.firstIndex(of: "/") ?? rest.endIndex
        var authority = rest[..<hostEnd]
        if let at = authority.lastIndex(of: "@") { authority = authority[authority.index(after: at)...] }   // never user:password
        return String(url[..<schemeEnd.upperBound]) + authority
    }
}

private func cString<T>(_ tuple: inout T) -> String {
    withUnsafeBytes(of: &tuple) { raw in
        let bytes = raw.prefix { $0 != 0 }
        return String(decoding: bytes, as: UTF8.self)
    }
}

private func errnoText() -> String { String(cString: strerror(errno)) }

