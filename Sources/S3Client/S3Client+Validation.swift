extension S3Client {
    /// The operation's name for errors (`PUT s3://bucket/key`), once the bucket and key are known to be ones S3
    /// accepts. An empty key would address the bucket itself (a PUT would try to create it), so it is refused here.
    func checkedOperation(_ verb: String, bucket: String, key: String?, keyRequired: Bool = true) throws(S3Error) -> String {
        let operation = "\(verb) \(S3URL.display(bucket: bucket, key: key))"
        if let problem = S3Client.bucketNameProblem(bucket) {
            throw transport.mask(S3Error(kind: .invalidRequest, operation: operation, message: "invalid bucket name: \(problem)"))
        }
        if let key {
            if keyRequired && key.isEmpty {
                throw S3Error(kind: .invalidRequest, operation: operation, message: "the object key is empty")
            }
            if key.utf8.count > 1024 {
                throw S3Error(kind: .invalidRequest, operation: String(operation.prefix(120)) + "…",
                              message: "the object key is \(key.utf8.count) bytes long (S3's limit is 1024)")
            }
        }
        return operation
    }

    /// S3's rules for bucket names (MinIO's are the same): 3 to 63 characters, lowercase letters, digits, dots and
    /// hyphens, starting and ending with a letter or digit, no two dots in a row.
    static func bucketNameProblem(_ name: String) -> String? {
        guard (3...63).contains(name.utf8.count) else { return "\(name.utf8.count) characters, not 3 to 63" }
        let allowed = name.utf8.allSatisfy { byte in
            (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte) || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
                || byte == UInt8(ascii: ".") || byte == UInt8(ascii: "-")
        }
        guard allowed else { return "only lowercase letters, digits, '.' and '-' are allowed" }
        guard let first = name.utf8.first, let last = name.utf8.last,
              first != UInt8(ascii: "."), first != UInt8(ascii: "-"), last != UInt8(ascii: "."), last != UInt8(ascii: "-") else {
            return "it must start and end with a letter or a digit"
        }
        if name.contains("..") { return "two dots in a row" }
        return nil
    }
}
