import XCTest
@testable import WebStatus

/// The DNS-rebinding guard's name check: exact names with an optional numeric port, nothing that merely starts
/// like a loopback name.
final class HostMatcherTests: XCTestCase {
    func testLoopbackServerAnswersOnlyToItsOwnNames() {
        let matcher = HostMatcher(configuredHost: "127.0.0.1")
        let cases: [(host: String?, accepted: Bool)] = [
            ("127.0.0.1", true), ("127.0.0.1:8080", true), ("localhost", true), ("LOCALHOST:1", true),
            ("[::1]", true), ("[::1]:8080", true), ("localhost:65535", true),
            ("127.0.0.1.evil.com", false), ("127.evil.com", false), ("127.0.0.1.nip.io", false),
            ("localhost.evil", false), ("evil.localhost", false), ("127.0.0.2", false), ("", false), (nil, false),
            ("127.0.0.1:", false), ("127.0.0.1:80a", false), ("127.0.0.1:+80", false), ("127.0.0.1:123456", false),
            ("127.0.0.1:80:80", false), ("::1", false), ("[::1", false), ("[::1]x", false), ("[::1]:", false),
            ("localhost@evil.com", false), ("127.0.0.1 ", false), (" 127.0.0.1", false), ("127.0.0.1\u{0}", false),
        ]
        for (host, accepted) in cases {
            XCTAssertEqual(matcher.accepts(host), accepted, "Host \(host.map { "'\($0)'" } ?? "missing")")
        }
    }

    func testTheConfiguredAddressIsAcceptedBesideTheLoopbackNames() {
        let other = HostMatcher(configuredHost: "127.0.0.2")
        XCTAssertTrue(other.accepts("127.0.0.2:9000"))
        XCTAssertTrue(other.accepts("localhost"))
        XCTAssertFalse(other.accepts("127.0.0.3"))
        let six = HostMatcher(configuredHost: "::1")
        XCTAssertTrue(six.accepts("[::1]:8080"))
        XCTAssertFalse(six.accepts("::1"))
    }

    func testOnlyLoopbackAddressesTurnTheCheckOn() {
        for host in ["127.0.0.1", "127.1.2.3", "localhost", "::1", "LocalHost"] { XCTAssertTrue(HostMatcher.isLoopback(host), host) }
        for host in ["0.0.0.0", "192.168.1.10", "127.evil.com", "127.0.0.1.nip.io", "::", "example.org", "127.0.0.256"] {
            XCTAssertFalse(HostMatcher.isLoopback(host), host)
        }
    }
}
