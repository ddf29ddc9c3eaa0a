import Transforms
import XCTest

final class ConnectionsTests: XCTestCase {
    private let environment = [
        "ORCHESTRATOR_CONN_WAREHOUSE": "postgres://loader:s3cret-pw@db.internal:5432/shop",
        "ORCHESTRATOR_CONN_Api": "https://tok_ABC123xyz@api.example.com/v2",
        "ORCHESTRATOR_CONN_local_db": "sqlite:///var/lib/shop.db",
        "ORCHESTRATOR_CONN_EMPTY": "",
        "ORCHESTRATOR_OTHER": "not a connection",
        "PATH": "/usr/bin",
    ]

    func testEnvironmentParsing() throws {
        let connections = Connections(environment: environment)
        XCTAssertEqual(connections.urls, [
            "warehouse": "postgres://loader:s3cret-pw@db.internal:5432/shop",
            "api": "https://tok_ABC123xyz@api.example.com/v2",
            "local_db": "sqlite:///var/lib/shop.db",
        ])
        for name in ["warehouse", "WAREHOUSE", "Warehouse"] {
            XCTAssertEqual(try connections.url(name), "postgres://loader:s3cret-pw@db.internal:5432/shop")
        }
        XCTAssertEqual(try connections.url("API"), "https://tok_ABC123xyz@api.example.com/v2")
        XCTAssertEqual(try connections.url("Local_DB"), "sqlite:///var/lib/shop.db")
    }

    func testNamesFromAMapAreCaseInsensitiveToo() throws {
        let connections = Connections(urls: ["Lake": "s3://bucket"])
        XCTAssertEqual(connections.urls, ["lake": "s3://bucket"])
        XCTAssertEqual(try connections.url("LAKE"), "s3://bucket")
    }

    func testUnknownConnectionListsKnownNames() {
        let connections = Connections(environment: environment)
        XCTAssertThrowsError(try connections.url("crm")) { error in
            XCTAssertEqual((error as? TransformError)?.description,
                           "no connection named 'crm' (set ORCHESTRATOR_CONN_CRM; known: api, local_db, warehouse)")
        }
        XCTAssertThrowsError(try connections.url("empty"), "an empty value defines no connection")
        XCTAssertThrowsError(try Connections(environment: [:]).url("crm")) { error in
            XCTAssertEqual((error as? TransformError)?.description, "no connection named 'crm' (set ORCHESTRATOR_CONN_CRM)")
        }
    }

    func testRedactorMasksPasswordsAndTokensInText() {
        let redactor = Connections(environment: environment).redactor
        let log = """
        connecting to postgres://loader:s3cret-pw@db.internal:5432/shop
        FATAL: password authentication failed (password was s3cret-pw)
        GET https://tok_ABC123xyz@api.example.com/v2/orders -> 401, token tok_ABC123xyz rejected
        user loader on db.internal
        """
        let redacted = redactor.redact(log)
        XCTAssertEqual(redacted, """
        connecting to postgres://loader:***@db.internal:5432/shop
        FATAL: password authentication failed (password was ***)
        GET https://***@api.example.com/v2/orders -> 401, token *** rejected
        user loader on db.internal
        """)
        XCTAssertFalse(redacted.contains("s3cret"))
        XCTAssertFalse(redacted.contains("tok_ABC"))
        XCTAssertEqual(redactor.redact("nothing secret here"), "nothing secret here")
    }

    func testRedactorMasksQueryAndPercentEncodedSecrets() {
        let redactor = Connections(urls: [
            "a": "postgres://app:p%40ss%3Aword@host/db",
            "b": "https://api.example.com/v1?api=1&token=qwerty123&password=hunter22",
            "c": "postgres://onlyuser@host/db",
            "d": "postgres://u:ab@host/db",
        ]).redactor
        XCTAssertEqual(redactor.redact("raw p%40ss%3Aword, decoded p@ss:word"), "raw ***, decoded ***")
        XCTAssertEqual(redactor.redact("token=qwerty123 password=hunter22"), "token=*** password=***")
        XCTAssertEqual(redactor.redact("postgres://onlyuser@host/db"), "postgres://onlyuser@host/db", "a postgres user name is not a secret")
        XCTAssertEqual(redactor.redact("ab cab"), "*** c***", "a short password is still a password")
    }

    func testPasswordsFoundationCannotParseAreMaskedToo() {
        // libpq accepts these; URLComponents gives up on them.
        XCTAssertEqual(Connections.redacted("postgres://app:s3cr#t@127.0.0.1:1/db"), "postgres://app:***@127.0.0.1:1/db")
        XCTAssertEqual(Connections.redacted("postgres://app:a/b?c@host/db"), "postgres://app:***@host/db")
        XCTAssertEqual(Connections.redacted("postgres://app:pw@host/db"), "postgres://app:***@host/db")
        XCTAssertEqual(Connections.redacted("postgres://host/db?user=app&password=hunter22"), "postgres://host/db?user=app&password=***")
    }

    func testLongestSecretIsMaskedWhole() {
        let redactor = Redactor(secrets: ["secret", "secret-and-more", "secret"])
        XCTAssertEqual(redactor.redact("secret-and-more / secret"), "*** / ***")
        XCTAssertEqual(Redactor(secrets: []).redact("secret"), "secret")
    }

    func testRedactedURL() {
        XCTAssertEqual(Connections.redacted("postgres://loader:s3cret-pw@db.internal:5432/shop"), "postgres://loader:***@db.internal:5432/shop")
        XCTAssertEqual(Connections.redacted("https://tok_ABC123xyz@api.example.com/v2"), "https://***@api.example.com/v2")
        XCTAssertEqual(Connections.redacted("https://api.example.com/v1?token=qwerty123"), "https://api.example.com/v1?token=***")
        XCTAssertEqual(Connections.redacted("sqlite:///var/lib/shop.db"), "sqlite:///var/lib/shop.db")
        XCTAssertEqual(Connections.redacted("postgres://loader@db.internal/shop"), "postgres://loader@db.internal/shop")
    }
}
