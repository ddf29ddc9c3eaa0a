import Foundation
import XCTest

/// A tiny HTTP server (python3's http.server, in a child process) that answers each request with the next step
/// of a script — `503`, `reset`, `hang`, `200`… — and logs `METHOD path` per request, to pin down retries and
/// aborts without mocking the client: the bytes go over a real socket.
final class ScriptedS3Server {
    let endpoint: String
    private let process: Process
    private let logPath: String
    private let directory: TemporaryDirectory

    /// Steps: `200` (empty body, an ETag), `200error` (200 with an <Error> body), `completed` (a multipart result),
    /// `head:HEX` (200 with ETag "HEX"),
    /// `partial:SIZE:N` (200 for an object of SIZE bytes `i % 251`, closed after N), `whole:SIZE` (all of it), `ranged:SIZE` (206 with the
    /// rest from the Range header, 412 unless If-Match is the object's ETag), `412` (PreconditionFailed), `nosuchupload` (404 NoSuchUpload), `initiate` (an UploadId), `503` (SlowDown), `500`, `400`
    /// (InvalidArgument), `403echo` (AccessDenied whose message quotes `echo`), `reset` (connection reset with no
    /// answer), `hang` (no answer for 30 s). The last step repeats.
    init(steps: [String], echo: String = "") throws {
        directory = try TemporaryDirectory()
        let script = directory.file("server.py")
        logPath = directory.file("requests.log")
        try ScriptedS3Server.source.write(toFile: script, atomically: true, encoding: .utf8)
        process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", script, steps.joined(separator: ","), logPath, echo]
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        // The server prints its port once it listens.
        var line = Data()
        while !line.contains(UInt8(ascii: "\n")) {
            let chunk = output.fileHandleForReading.availableData
            if chunk.isEmpty { break }
            line.append(chunk)
        }
        guard let port = Int(String(decoding: line, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)) else {
            process.terminate()
            if ProcessInfo.processInfo.environment["ORCHESTRATOR_TEST_STRICT"] == "1" { XCTFail("the scripted S3 server did not start (python3 missing?)") }
            throw XCTSkip("the scripted S3 server did not start (python3 missing?)")
        }
        endpoint = "http://127.0.0.1:\(port)"
    }

    deinit {
        process.terminate()
        process.waitUntilExit()
    }

    /// `METHOD path?query` of every request received so far.
    var requests: [String] {
        ((try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "").split(separator: "\n").map(String.init)
    }

    /// The client's port of every request so far: equal ports mean one connection, reused.
    var clientPorts: [String] {
        ((try? String(contentsOfFile: logPath + ".ports", encoding: .utf8)) ?? "").split(separator: "\n").map(String.init)
    }

    private static let source = #"""
import http.server, socket, struct, sys, time

steps = sys.argv[1].split(",")
log_path = sys.argv[2]
echo = sys.argv[3]
count = 0
etag_tag = "feedfacefeedfacefeedfacefeedface"

class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def answer(self, status, body=b"", headers=()):
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def error(self, status, code, message):
        body = ("<?xml version=\"1.0\"?><Error><Code>%s</Code><Message>%s</Message></Error>" % (code, message)).encode()
        self.answer(status, body, [("Content-Type", "application/xml")])

    def handle_any(self):
        global count
        step = steps[min(count, len(steps) - 1)]
        count += 1
        with open(log_path, "a") as log:
            log.write("%s %s%s\n" % (self.command, self.path, " [%s]" % self.headers["Range"] if self.headers.get("Range") else ""))
        with open(log_path + ".ports", "a") as log:
            log.write("%d\n" % self.client_address[1])
        length = int(self.headers.get("Content-Length") or 0)
        if step not in ("reset", "hang") and length:
            self.rfile.read(length)
        if step == "reset":
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.close_connection = True
            self.connection.close()
        elif step == "hang":
            time.sleep(30)
        elif step == "200":
            self.answer(200, b"", [("ETag", "\"0123456789abcdef0123456789abcdef\"")])
        elif step == "200error":
            self.answer(200, b"<Error><Code>InternalError</Code><Message>We encountered an internal error.</Message></Error>")
        elif step.startswith("partial:"):
            # The object is bytes i % 251; send its first N bytes of SIZE, then reset.
            size, sent = (int(x) for x in step.split(":")[1:])
            self.send_response(200)
            self.send_header("ETag", "\"%s\"" % etag_tag)
            self.send_header("Content-Length", str(size))
            self.end_headers()
            self.wfile.write(bytes(i % 251 for i in range(sent)))
            self.wfile.flush()
            # A clean close (FIN, not RST), so that every byte sent arrives: the client sees a short body.
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_WR)
        elif step.startswith("whole:"):
            size = int(step.split(":")[1])
            self.answer(200, bytes(i % 251 for i in range(size)), [("ETag", "\"%s\"" % etag_tag)])
        elif step.startswith("ranged:"):
            size = int(step.split(":")[1])
            start = int(self.headers["Range"].split("=")[1].rstrip("-"))
            if self.headers.get("If-Match") != "\"%s\"" % etag_tag:
                self.error(412, "PreconditionFailed", "If-Match")
                return
            self.answer(206, bytes(i % 251 for i in range(start, size)),
                        [("ETag", "\"%s\"" % etag_tag), ("Content-Range", "bytes %d-%d/%d" % (start, size - 1, size))])
        elif step.startswith("head:"):
            self.answer(200, b"", [("ETag", "\"%s\"" % step[5:])])
        elif step == "nosuchupload":
            self.error(404, "NoSuchUpload", "The specified upload does not exist.")
        elif step == "412":
            self.error(412, "PreconditionFailed", "At least one of the pre-conditions you specified did not hold")
        elif step == "completed":
            self.answer(200, b"<CompleteMultipartUploadResult><ETag>&quot;abc-2&quot;</ETag></CompleteMultipartUploadResult>")
        elif step == "initiate":
            self.answer(200, b"<InitiateMultipartUploadResult><UploadId>u-1</UploadId></InitiateMultipartUploadResult>")
        elif step == "503":
            self.error(503, "SlowDown", "Please reduce your request rate.")
        elif step == "500":
            self.error(500, "InternalError", "We encountered an internal error. Please try again.")
        elif step == "400":
            self.error(400, "InvalidArgument", "Invalid argument.")
        elif step == "403echo":
            self.error(403, "AccessDenied", "denied for secret " + echo)

    do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = handle_any

server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
server.daemon_threads = True
print(server.server_address[1], flush=True)
server.serve_forever()
"""#
}
