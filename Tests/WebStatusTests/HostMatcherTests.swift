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

    func testAWildcardOrLANBindAnswersToLoopbackAndTheAllowListOnly() {
        let wildcard = HostMatcher(configuredHost: "0.0.0.0", allowedHosts: ["Status.Example.org", "192.168.1.10", "fe80::1"])
        for host in ["localhost:8080", "127.0.0.1", "[::1]", "status.example.org", "STATUS.example.org:8080", "192.168.1.10:80",
                     "[fe80::1]:8080"] {
            XCTAssertTrue(wildcard.accepts(host), host)
        }
        for host in ["0.0.0.0", "0.0.0.0:8080", "evil.com", "status.example.org.evil.com", "example.org", "192.168.1.11",
                     "fe80::1", "[fe80::2]"] {
            XCTAssertFalse(wildcard.accepts(host), host)
        }
        XCTAssertFalse(HostMatcher(configuredHost: "::").accepts("[::]"), "a wildcard is not a name")
        XCTAssertFalse(HostMatcher(configuredHost: "0.0.0.0").accepts("status.example.org"), "nothing is allowed unless listed")
        let lan = HostMatcher(configuredHost: "192.168.1.10")
        XCTAssertTrue(lan.accepts("192.168.1.10:8080"))
        XCTAssertTrue(lan.accepts("localhost"))
        XCTAssertFalse(lan.accepts("attacker.example"), "a LAN address is checked as strictly as loopback")
    }

    func testAllowListEntriesAreNamesWithoutPorts() {
        for name in ["status.example.org", "host-1", "192.168.1.10", "fe80::1", "[fe80::1]", "LOCALHOST"] {
            XCTAssertTrue(WebLimits.isAllowableHostName(name), name)
        }
        for name in ["", "a b", "host:8080", "*.example.org", "http://x", "x/y", ".example.org", "a..b", "-x", "[]", "ex@mple",
                     "caf\u{E9}.fr", String(repeating: "a", count: 254)] {
            XCTAssertFalse(WebLimits.isAllowableHostName(name), name)
        }
    }
}
