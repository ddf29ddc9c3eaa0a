import Foundation
import XCTest
import MetadataStore
@testable import WebStatus

/// The address a node advertises to the others, and how a node reads another's answer for a log piece.
final class NodeAddressTests: XCTestCase {
    func testAdvertisedURLsAreHTTPWithAHostAndNothingThatCarriesSecretsOrEscapes() throws {
        let accepted: [(String, String)] = [
            ("http://10.0.0.5:8080", "http://10.0.0.5:8080"),
            ("HTTPS://Node-B.Example.org/", "https://node-b.example.org"),
            ("http://[fe80::1]:9000/orchestrator/", "http://[fe80::1]:9000/orchestrator"),
            ("http://node-b", "http://node-b"),
        ]
        for (text, normalized) in accepted {
            XCTAssertEqual(try NodeAddress(parsing: text).description, normalized, text)
        }
        let refused = [
            "ftp://node-b", "file:///etc/passwd", "gopher://node-b:70", "node-b:8080", "//node-b", "http://",
            "http://user:secret@node-b:8080", "http://node-b:8080/?x=1", "http://node-b#frag", "http://node-b:0",
            "http://node-b:65536", "http://node-b:80a", "http://node b", "http://node-b/..", "http://node-b/a/../b",
            "http://0.0.0.0:8080", "http://[::]:8080", "http://fe80::1:8080", "http://node-b/\u{7f}", "http://nöde",
            "http://" + String(repeating: "a", count: 2100),
        ]
        for text in refused {
            XCTAssertThrowsError(try NodeAddress(parsing: text), text) { error in
                XCTAssertFalse("\(error)".contains("secret"), "\(error)")
            }
        }
    }

    func testTheDefaultComesFromTheBoundAddressAndAWildcardFromTheHostName() throws {
        XCTAssertEqual(NodeAddress.derived(bindHost: "127.0.0.1", port: 8080, machineHostName: "box")?.description, "http://127.0.0.1:8080")
        XCTAssertEqual(NodeAddress.derived(bindHost: "0.0.0.0", port: 8080, machineHostName: "box")?.description, "http://box:8080")
        XCTAssertEqual(NodeAddress.derived(bindHost: "::1", port: 81, machineHostName: "box")?.description, "http://[::1]:81")
        XCTAssertNil(NodeAddress.derived(bindHost: "127.0.0.1", port: 0, machineHostName: "box"), "port 0 is not bound yet")
        XCTAssertNil(NodeAddress.derived(bindHost: "::", port: 8080, machineHostName: ""))
        XCTAssertTrue(try NodeAddress(parsing: "http://127.0.0.1:8080").isLoopback)
        XCTAssertTrue(try NodeAddress(parsing: "http://LOCALHOST:8080").isLoopback)
        XCTAssertFalse(try NodeAddress(parsing: "http://10.0.0.5:8080").isLoopback)
    }

    func testRouteIdsAreOneEncodedSegmentEach() {
        let path = NodeLogClient.path(TaskKey(dagId: "d", runId: "manual__2024-01-01T00:00:00+00:00", taskId: "a/b"), tryNumber: 3)
        XCTAssertEqual(path, "/internal/v1/logs/d/manual__2024-01-01T00%3A00%3A00%2B00%3A00/a%2Fb/3")
    }

    func testAnotherNodesAnswerIsAcceptedOnlyAsThePieceAskedFor() throws {
        func reply(_ object: [String: Any], status: Int = 200) throws -> NodeLogClient.Reply {
            NodeLogClient.Reply(curlCode: 0, status: status, body: try JSONSerialization.data(withJSONObject: object), error: "")
        }
        let bytes = Array("0123456789".utf8)
        let good: [String: Any] = ["window": Data(bytes).base64EncodedString(), "window_offset": 0, "offset": 2, "end": 6, "size": 10]
        guard case .window(let window) = NodeLogClient.outcome(of: try reply(good), node: "b", offset: 2, length: 4) else {
            return XCTFail("a good answer is a window")
        }
        XCTAssertEqual(String(decoding: TaskFiles.piece(of: window).bytes, as: UTF8.self), "2345")
        // Not the offset asked for, longer than asked, past its file's end, or a tail that is not one: refused.
        for (offset, length, changes) in [(3, 4, [:]), (2, 3, [:]), (2, 4, ["size": 5]), (nil, 4, [:]),
                                          (2, 4, ["window_offset": 3]), (2, 4, ["window": "not base64!"])] as [(Int?, Int, [String: Any])] {
            let answer = good.merging(changes) { $1 }
            guard case .failed(let failure) = NodeLogClient.outcome(of: try reply(answer), node: "b", offset: offset, length: length) else {
                return XCTFail("\(answer) for \(String(describing: offset)), \(length) must be refused")
            }
            XCTAssertTrue(failure.description.hasPrefix("the log is on node b, which did not answer: its answer is not"), failure.description)
        }
        guard case .noLog = NodeLogClient.outcome(of: try reply([:], status: 404), node: "b", offset: nil, length: 4) else {
            return XCTFail("404: no log there")
        }
        for (status, expected, gateway) in [(401, "refused this node's token", 502), (403, "serves no logs", 502), (500, "HTTP 500", 502)] {
            guard case .failed(let failure) = NodeLogClient.outcome(of: try reply(["error": ["message": "x\ny"]], status: status), node: "b",
                                                                    offset: nil, length: 4) else { return XCTFail("\(status)") }
            XCTAssertTrue(failure.description.contains(expected), failure.description)
            XCTAssertFalse(failure.description.contains("\n"), failure.description)
            XCTAssertEqual(Int(failure.httpError.status.code), gateway)
        }
        let timedOut = NodeLogClient.Reply(curlCode: 28, status: 0, body: Data(), error: "Timeout was reached")
        guard case .failed(let failure) = NodeLogClient.outcome(of: timedOut, node: "b", offset: nil, length: 4) else { return XCTFail("timeout") }
        XCTAssertEqual(failure.description, "the log is on node b, which did not answer: Timeout was reached")
        XCTAssertEqual(failure.httpError.status.code, 504)
        let cannotAsk = NodeLogFailure.cannotAsk("b", "the log is on node b, which has no address in the store (its web server is off)")
        XCTAssertEqual(cannotAsk.httpError.status.code, 503)
    }
}
