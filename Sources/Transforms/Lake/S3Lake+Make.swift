import Foundation
import S3Client

extension S3Lake {
    /// `s3://bucket/prefix`, optionally `?connection=NAME`: the named connection (`http(s)://KEY:SECRET@host:port?region=R`)
    /// gives endpoint and credentials; otherwise AWS's variables do (AWS_ACCESS_KEY_ID, AWS_ENDPOINT_URL, …).
    /// `ORCHESTRATOR_LAKE_CACHE_MB` sets the read cache's budget (default 512).
    static func make(url: String, home: String, environment: [String: String], connections: Connections) throws(TransformError) -> S3Lake {
        let shown = Connections.redacted(url)
        var rest = Substring(url.dropFirst("s3://".count))
        var connection: String?
        if let question = rest.firstIndex(of: "?") {
            for pair in rest[rest.index(after: question)...].split(separator: "&") {
                let parts = pair.split(separator: "=", maxSplits: 1).map(String.init)
                guard parts.count == 2, parts[0] == "connection", !parts[1].isEmpty else {
                    throw TransformError("lake URL '\(shown)': unknown option '\(parts.first ?? "")' (only connection=NAME)")
                }
                connection = parts[1]
            }
            rest = rest[..<question]
        }
        let bucket = String(rest.prefix { $0 != "/" })
        let prefix = rest.dropFirst(bucket.count).split(separator: "/").joined(separator: "/")
        guard !bucket.isEmpty, !bucket.contains("@"), !bucket.contains(":") else {
            throw TransformError("lake URL '\(shown)': needs a bucket (s3://bucket/prefix; credentials go in AWS_* variables or a connection)")
        }
        if !prefix.isEmpty {
            do { try LakePartition.validate(prefix) } catch { throw TransformError("lake URL '\(shown)': the prefix \(error.description)") }
        }
        var configuration = S3Configuration.fromEnvironment(environment)
        if let connection { configuration = try Self.configuration(connection: connection, connections: connections, base: configuration) }
        let client: S3Client
        do { client = try S3Client(configuration) } catch {
            if error.kind == .missingCredentials {
                throw TransformError("lake \(shown): no S3 credentials (set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or ?connection=NAME)")
            }
            throw TransformError("lake \(shown): \(error.description)")
        }
        let megabytes = environment["ORCHESTRATOR_LAKE_CACHE_MB"].flatMap { Int64($0) }.map { max(0, $0) << 20 }
        return S3Lake(client: client, bucket: bucket, prefix: prefix, stagingRoot: "\(home)/tmp/lake-staging",
                      cache: LakeReadCache(folder: "\(home)/cache/lake", budget: megabytes ?? LakeReadCache.defaultBudget))
    }

    /// Endpoint, region and credentials from a connection URL `http(s)://KEY:SECRET@host:port?region=R`.
    static func configuration(connection name: String, connections: Connections, base: S3Configuration) throws(TransformError) -> S3Configuration {
        let url = try connections.url(name)
        guard let components = URLComponents(string: url), let scheme = components.scheme, ["http", "https"].contains(scheme),
              let host = components.host, let user = components.percentEncodedUser?.removingPercentEncoding,
              let password = components.percentEncodedPassword?.removingPercentEncoding else {
            throw TransformError("connection '\(name)' for the lake: '\(Connections.redacted(url))' is not http(s)://KEY:SECRET@host:port")
        }
        var configuration = base
        configuration.endpoint = "\(scheme)://\(host)" + (components.port.map { ":\($0)" } ?? "")
        configuration.region = components.queryItems?.first { $0.name == "region" }?.value ?? base.region
        configuration.credentials = S3Credentials(accessKeyId: user, secretAccessKey: password)
        return configuration
    }
}
