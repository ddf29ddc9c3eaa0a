import SecretMasking
import XCTest

/// Every password form the masker must hide, written out by hand with the expected masked text.
final class SecretMaskerTests: XCTestCase {
    /// (input, expected with `***`): the expectations are written by hand from the libpq rules, not computed.
    static let cases: [(String, String)] = [
        // URL user info, the last '@' before the host ending it.
        ("postgres://u:pw@host/db", "postgres://u:***@host/db"),
        ("postgres://u:p/a@ss@host/db", "postgres://u:***@host/db"),
        ("postgres://app:a/b?c@host:5432/db", "postgres://app:***@host:5432/db"),
        ("postgres://app:s3cr#t@127.0.0.1:1/db", "postgres://app:***@127.0.0.1:1/db"),
        ("postgresql://app:p%40ss@[::1]:5432/db", "postgresql://app:***@[::1]:5432/db"),
        ("postgres://u:pw@host/db?application_name=a@b", "postgres://u:***@host/db?application_name=a@b"),
        ("connect to postgres://u:pw@h1,h2:5433/db failed", "connect to postgres://u:***@h1,h2:5433/db failed"),
        ("url=\"postgres://u:pw@host/db\" next", "url=\"postgres://u:***@host/db\" next"),
        // http(s) bearer tokens in the user part; other schemes' lone user names are no secret.
        ("GET https://tok_ABC@api.example.com/v2", "GET https://***@api.example.com/v2"),
        ("postgres://onlyuser@host/db", "postgres://onlyuser@host/db"),
        ("ssh://git@example.com/repo", "ssh://git@example.com/repo"),
        // Query forms.
        ("postgres://host/db?user=app&password=hunter22", "postgres://host/db?user=app&password=***"),
        ("postgres://host/db?password=hunter22&sslmode=require", "postgres://host/db?password=***&sslmode=require"),
        ("postgres://host/db?sslmode=verify-full&sslpassword=keypw", "postgres://host/db?sslmode=verify-full&sslpassword=***"),
        ("https://api.example.com/v1?token=qwerty123#frag", "https://api.example.com/v1?token=***#frag"),
        // libpq keyword/value strings, quoted values included.
        ("host=db password=secret sslpassword=x dbname=shop", "host=db password=*** sslpassword=*** dbname=shop"),
        ("host=db password='a b' user=app", "host=db password='***' user=app"),
        ("host=db password = 'it\\'s' user=app", "host=db password = '***' user=app"),
        ("PASSWORD=Upper", "PASSWORD=***"),
        // Nothing secret: left alone.
        ("http://host:8080/path?x=a@b", "http://host:8080/path?x=a@b"),
        ("sqlite:///var/lib/shop.db", "sqlite:///var/lib/shop.db"),
        ("s3://bucket/key", "s3://bucket/key"),
        ("mypassword_hint=left", "mypassword_hint=left"),
        ("no secrets here: password", "no secrets here: password"),
        ("echo token=absent", "echo token=***"),
        // Keys ending in password/passwd/secret/token, with '=' or ':' and optional quotes (JSON, YAML, env).
        ("PGPASSWORD=pg-pw psql", "PGPASSWORD=*** psql"),
        ("export DB_PASSWORD=db-pw", "export DB_PASSWORD=***"),
        ("ORCHESTRATOR_X_PASSWORD=x1 next", "ORCHESTRATOR_X_PASSWORD=*** next"),
        ("ftp_passwd=fp client_secret=cs api_token=at", "ftp_passwd=*** client_secret=*** api_token=***"),
        ("{\"user\": \"app\", \"password\": \"j s\\\"on\"}", "{\"user\": \"app\", \"password\": \"***\"}"),
        ("{'password': 'py-dict'}", "{'password': '***'}"),
        ("password: yaml-pw", "password: ***"),
        ("{password: flow-pw, user: app}", "{password: ***, user: app}"),
        ("  db_password:\tTabbed", "  db_password:\t***"),
        ("X-Auth-Token: header-tok", "X-Auth-Token: ***"),
        ("password_hint: left", "password_hint: left"),
        ("tokens: 3", "tokens: 3"),
        ("Enter password: ", "Enter password: "),
        ("std::password::x", "std::password::x"),
        ("https://api.example.com/v1?page=2&api_key=k-123", "https://api.example.com/v1?page=2&api_key=***"),
    ]

    func testEveryPasswordFormIsMasked() {
        for (input, expected) in Self.cases {
            XCTAssertEqual(SecretMasker.masked(input), expected, "input: \(input)")
            XCTAssertEqual(SecretMasker.containsSecret(input), input != expected, "input: \(input)")
        }
    }

    func testByteMaskingKeepsOffsets() {
        for (input, expected) in Self.cases {
            var bytes = Array(input.utf8)
            SecretMasker.mask(&bytes, secrets: [])
            XCTAssertEqual(bytes.count, input.utf8.count, "input: \(input)")
            let masked = String(decoding: bytes, as: UTF8.self)
            // The same bytes are hidden, one star per byte.
            let collapsed = masked.replacingOccurrences(of: #"\*+"#, with: "***", options: .regularExpression)
            XCTAssertEqual(collapsed, expected, "input: \(input)")
        }
    }

    func testKnownSecretsAreMaskedAnywhere() {
        XCTAssertEqual(SecretMasker.masked("token abcdefgh12345678 in a message", secrets: ["abcdefgh12345678"]),
                       "token *** in a message")
        var bytes = Array("short abc and long abcdefgh".utf8)
        SecretMasker.mask(&bytes, secrets: ["abc", "abcdefgh"])
        XCTAssertEqual(String(decoding: bytes, as: UTF8.self), "short abc and long ********", "short exact secrets are not masked byte-wise")
    }

    /// Connection passwords are exact secrets and may be short: served logs mask them from 4 bytes on.
    func testShortKnownSecretsAreMaskedFromFourBytes() {
        var bytes = Array("pw is abcd, not abc".utf8)
        SecretMasker.mask(&bytes, secrets: ["abcd", "xyz"], minimumSecretLength: 4)
        XCTAssertEqual(String(decoding: bytes, as: UTF8.self), "pw is ****, not abc")
    }

    /// The daemon's scrubbing and the workers' environment use this one rule.
    func testSecretVariables() {
        XCTAssertTrue(SecretMasker.isSecretVariable(name: "ORCHESTRATOR_WEB_TOKEN", value: "t"))
        XCTAssertTrue(SecretMasker.isSecretVariable(name: "ORCHESTRATOR_CONN_A", value: "sqlite:///x"))
        XCTAssertTrue(SecretMasker.isSecretVariable(name: "ORCHESTRATOR_DB_PASSWD", value: "x"))
        XCTAssertTrue(SecretMasker.isSecretVariable(name: "ORCHESTRATOR_STORE_URL", value: "postgres://u:pw@h/db"))
        XCTAssertFalse(SecretMasker.isSecretVariable(name: "ORCHESTRATOR_HOME", value: "/h"))
        XCTAssertFalse(SecretMasker.isSecretVariable(name: "PGPASSWORD", value: "x"), "not the daemon's: a task's own")
        // The lake's S3 keys are the daemon's (transforms get them); the endpoint and region are not secrets.
        for name in ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"] {
            XCTAssertTrue(SecretMasker.isSecretVariable(name: name, value: "x"), name)
        }
        XCTAssertFalse(SecretMasker.isSecretVariable(name: "AWS_ENDPOINT_URL", value: "http://127.0.0.1:9000"))
        XCTAssertEqual(SecretMasker.masked("AWS_SECRET_ACCESS_KEY=abc123 next"), "AWS_SECRET_ACCESS_KEY=*** next")
    }

    func testSecretsOfAURLAreFoundRawAndDecoded() {
        XCTAssertEqual(Set(SecretMasker.secrets(in: "postgres://app:p%40ss@host/db")), ["p%40ss", "p@ss"])
        XCTAssertEqual(SecretMasker.secrets(in: "postgres://u:p/a@ss@host/db"), ["p/a@ss"])
        XCTAssertEqual(Set(SecretMasker.secrets(in: "host=h password='it\\'s'")), ["it\\'s", "it's"])
        XCTAssertEqual(SecretMasker.secrets(in: "https://x.example/v1?key=k123", extraKeys: ["key"]), ["k123"])
        XCTAssertEqual(SecretMasker.secrets(in: "https://x.example/v1?key=k123"), [])
    }
}
