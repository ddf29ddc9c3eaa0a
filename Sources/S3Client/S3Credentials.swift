/// An access key pair, and the session token of temporary credentials. Never printed: every textual form shows
/// the key id only, so a credential that ends up in a log or an error says whose it is and nothing more.
public struct S3Credentials: Sendable, CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    public var accessKeyId: String
    public var secretAccessKey: String
    public var sessionToken: String?

    public init(accessKeyId: String, secretAccessKey: String, sessionToken: String? = nil) {
        self.accessKeyId = accessKeyId
        self.secretAccessKey = secretAccessKey
        self.sessionToken = sessionToken
    }

    public var description: String { "S3Credentials(accessKeyId: \(accessKeyId), secret: ***\(sessionToken == nil ? "" : ", session token: ***"))" }
    public var debugDescription: String { description }
    public var customMirror: Mirror { Mirror(self, children: ["accessKeyId": accessKeyId], displayStyle: .struct) }

    /// The strings that must never appear in an error or a log line.
    var secrets: [String] { [secretAccessKey] + (sessionToken.map { [$0] } ?? []) }
}
