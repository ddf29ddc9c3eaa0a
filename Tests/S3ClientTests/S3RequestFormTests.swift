@testable import S3Client
import XCTest

/// The pure parts: URLs in SigV4's canonical form, the XML reader, error kinds, part sizes. Expected strings are
/// written out by hand from the S3 and SigV4 documentation.
final class S3RequestFormTests: XCTestCase {
    func testPathStyleWithAnEndpointAndVirtualHostOnAWS() {
        let local = S3URL(endpoint: "http://127.0.0.1:9000/", region: "us-east-1")
        XCTAssertEqual(local.url(bucket: "lake", key: "raw/a b+c/ü=1.csv"), "http://127.0.0.1:9000/lake/raw/a%20b%2Bc/%C3%BC%3D1.csv")
        XCTAssertEqual(local.url(bucket: "lake"), "http://127.0.0.1:9000/lake/")
        let aws = S3URL(endpoint: nil, region: "eu-west-1")
        XCTAssertEqual(aws.url(bucket: "lake", key: "k"), "https://lake.s3.eu-west-1.amazonaws.com/k")
        XCTAssertEqual(aws.url(bucket: "my.lake", key: "k"), "https://s3.eu-west-1.amazonaws.com/my.lake/k")
    }

    func testQueryIsSortedAndFullyEncoded() {
        let url = S3URL(endpoint: "http://h:1", region: "us-east-1")
            .url(bucket: "b", query: [("prefix", "raw/2026 12"), ("list-type", "2"), ("continuation-token", "a+b/c="), ("delimiter", "/")])
        XCTAssertEqual(url, "http://h:1/b/?continuation-token=a%2Bb%2Fc%3D&delimiter=%2F&list-type=2&prefix=raw%2F2026%2012")
        XCTAssertEqual(S3URL.canonicalQuery([("uploadId", "x~y"), ("partNumber", "10")]), "partNumber=10&uploadId=x~y")
        XCTAssertEqual(S3URL.canonicalQuery([("uploads", "")]), "uploads=")
        XCTAssertEqual(S3URL.decode("raw%2F%C3%BC+x%2B"), "raw/ü x+")
    }

    func testXMLReaderFindsElementsAndDecodesEntities() {
        let document = S3XML(Array("""
            <?xml version="1.0" encoding="UTF-8"?>
            <ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Prefix>p</Prefix><KeyCount>2</KeyCount>
            <Contents><Key>a&amp;b&lt;c&gt;&quot;&apos;&#233;&#x4E2D;</Key><Size>3</Size><ETag>&quot;x&quot;</ETag></Contents>
            <Contents><Key>second</Key><Size>0</Size><ETag/></Contents>
            <IsTruncated>true</IsTruncated><NextContinuationToken>t/1</NextContinuationToken></ListBucketResult>
            """.utf8))
        let contents = document.elements("Contents")
        XCTAssertEqual(contents.map { $0.text("Key") }, ["a&b<c>\"'é中", "second"])
        XCTAssertEqual(contents.first?.text("ETag"), "\"x\"")
        XCTAssertEqual(contents.last?.text("ETag"), "")
        XCTAssertEqual(document.text("NextContinuationToken"), "t/1")
        XCTAssertEqual(document.text("KeyCount"), "2", "<Key> must not match <KeyCount>")
        XCTAssertNil(document.text("Missing"))
        XCTAssertEqual(S3XML.decodeEntities("a & b &bogus; &#xZZ;"), "a & b &bogus; &#xZZ;")
        XCTAssertEqual(S3XML.escape("<a & 'b'>"), "&lt;a &amp; &apos;b&apos;&gt;")
    }

    func testErrorKindsFollowTheCodeThenTheStatus() {
        XCTAssertEqual(S3ErrorClassifier.kind(forCode: "SignatureDoesNotMatch"), .invalidCredentials)
        XCTAssertEqual(S3ErrorClassifier.kind(forCode: "InvalidAccessKeyId"), .invalidCredentials)
        XCTAssertEqual(S3ErrorClassifier.kind(forCode: "SlowDown"), .throttled)
        XCTAssertEqual(S3ErrorClassifier.kind(forCode: "NoSuchBucket"), .noSuchBucket)
        XCTAssertNil(S3ErrorClassifier.kind(forCode: "InvalidArgument"))
        XCTAssertEqual(S3ErrorClassifier.kind(forStatus: 503), .throttled)
        XCTAssertEqual(S3ErrorClassifier.kind(forStatus: 502), .server)
        XCTAssertEqual(S3ErrorClassifier.kind(forStatus: 409), .invalidRequest)
        XCTAssertEqual(S3ErrorClassifier.kind(forCurlCode: 7).0, .unreachable)
        XCTAssertEqual(S3ErrorClassifier.kind(forCurlCode: 28).0, .timeout)
        XCTAssertFalse(S3ErrorClassifier.kind(forCurlCode: 60).retryable, "a refused TLS certificate stays refused")
        XCTAssertEqual(S3Error(kind: .server, operation: "PUT s3://b/k", message: "line one\nline two").description, "PUT s3://b/k: line one line two")
    }

    func testPartSizeHasS3sMinimumAndFitsTenThousandParts() {
        XCTAssertEqual(MultipartUpload.partSize(configured: 1 << 20, fileSize: 100 << 20), 5 << 20)
        XCTAssertEqual(MultipartUpload.partSize(configured: 16 << 20, fileSize: 100 << 20), 16 << 20)
        let huge: Int64 = 1 << 40   // 1 TiB at 16 MiB parts would need 65,536 parts
        let size = MultipartUpload.partSize(configured: 16 << 20, fileSize: huge)
        XCTAssertLessThanOrEqual((huge + size - 1) / size, 10_000)
        XCTAssertEqual(size % (1 << 20), 0)
    }
}
