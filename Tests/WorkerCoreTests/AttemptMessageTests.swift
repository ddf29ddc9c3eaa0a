import WorkerCore
import XCTest

/// The attempt channel's messages: every request and reply reads back as it was sent, doubles bit for bit, and a
/// damaged datagram is refused with a reason, never half read.
final class AttemptMessageTests: XCTestCase {
    let key = AttemptKey(dagId: "shop", runId: "manual__2024-01-01T00:00:00+00:00", taskId: "load", tryNumber: 2)

    func roundTrip(_ message: AttemptMessage, file: StaticString = #filePath, line: UInt = #line) throws {
        XCTAssertEqual(try AttemptMessage(decoding: message.encoded), message, file: file, line: line)
    }

    func testEveryRequestReadsBackAsSent() throws {
        let outcome = AttemptOutcome(state: "up_for_retry", startedAt: 1_700_000_000.123_456_7, endedAt: 1_700_000_003.1,
                                     exitCode: 1, signal: nil, nextRetryAt: 0.1 + 0.2, note: "exit code 1 — é\n\"quoted\"")
        let requests: [AttemptRequest] = [
            .claim(key, pid: 4242, hostname: "node-a", at: 1_700_000_000.123_456_7),
            .reschedule(key, nextPokeAt: 1_700_000_060, note: "waiting: condition not met", at: 1_700_000_001),
            .setTaskPid(key, taskPid: 4243),
            .heartbeat(key, at: 1_700_000_005.5),
            .complete(key, hostname: "node-a", pid: 4242, outcome: outcome),
            .complete(key, hostname: "", pid: 1, outcome: AttemptOutcome(state: "success", startedAt: 0, endedAt: 0, exitCode: nil,
                                                                         signal: 9, nextRetryAt: nil, note: nil)),
        ]
        for (index, request) in requests.enumerated() {
            try roundTrip(AttemptMessage(id: UInt32(index), .request(request, resent: index % 2 == 0)))
        }
        // 0.1 + 0.2 is not 0.3: the shortest round-trip text keeps every bit.
        guard case .request(.complete(_, _, _, let back), _) = try AttemptMessage(decoding: AttemptMessage(id: 1, .request(requests[4], resent: false)).encoded).body else {
            return XCTFail("not a complete request")
        }
        XCTAssertEqual(back.nextRetryAt?.bitPattern, (0.1 + 0.2).bitPattern)
    }

    func testEveryReplyReadsBackAsSent() throws {
        let replies: [AttemptReply] = [
            .started(nil), .started(1_700_000_000.5), .written(true), .written(false), .heartbeat(.ours),
            .heartbeat(.takenAway(state: "failed", tryNumber: 3)), .heartbeat(.takenAway(state: nil, tryNumber: nil)), .done,
            .failed(kind: .unavailable, description: "store postgres://u:***@db/x: cannot reconnect"),
        ]
        for (index, reply) in replies.enumerated() { try roundTrip(AttemptMessage(id: UInt32.max - UInt32(index), .reply(reply))) }
    }

    func testALongNoteIsCutToFitOneDatagram() throws {
        let note = String(repeating: "é", count: 40_000)
        let message = AttemptMessage(id: 7, .request(.reschedule(key, nextPokeAt: 1, note: note, at: 1), resent: false))
        XCTAssertLessThanOrEqual(message.encoded.count, AttemptMessage.sizeLimit)
        guard case .request(.reschedule(_, _, let back, _), _) = try AttemptMessage(decoding: message.encoded).body else {
            return XCTFail("not a reschedule")
        }
        XCTAssertLessThanOrEqual(back.utf8.count, AttemptMessage.noteLimit)
        XCTAssertTrue(back.hasSuffix("…") && back.hasPrefix("éé"), String(back.suffix(5)))
    }

    func testDamagedMessagesAreRefusedWithAReason() {
        let good = AttemptMessage(id: 3, .request(.heartbeat(key, at: 5), resent: false)).encoded
        let cases: [([UInt8], String)] = [
            (Array(good.dropLast()), "ends inside a field"),
            (Array(good.prefix(3)), "ends inside a field length"),
            ([2] + good.dropFirst(), "bad field marker"),
            (good + [0], "fields after its end"),
            ([], "ends before id"),
            ([UInt8](repeating: 0, count: AttemptMessage.sizeLimit + 1), "over the limit"),
        ]
        for (bytes, reason) in cases {
            XCTAssertThrowsError(try AttemptMessage(decoding: bytes), reason) { error in
                XCTAssertTrue("\(error)".contains(reason), "\(error) does not say \(reason)")
            }
        }
        // A number field that is not one: the heartbeat's time, its last field ("5.0"), made "x.0".
        var damaged = good
        damaged[damaged.count - 3] = UInt8(ascii: "x")
        XCTAssertThrowsError(try AttemptMessage(decoding: damaged)) { XCTAssertTrue("\($0)".contains("'x.0' is not a number"), "\($0)") }
    }
}
