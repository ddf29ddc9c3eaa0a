import ArgumentParser
import Foundation
import SampleData

extension OrchestratorCommand.Sample {
    struct MoviesAPI: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "movies-api",
            abstract: "Serve a deterministic stand-in of the TMDb v3 API for movies_daily (discover, movie details, genres).",
            discussion: """
                Popularity and votes drift by day: the day is the `day` query parameter, else the X-Sample-Day header, \
                else today (UTC). Prints `listening on http://HOST:PORT/3` once ready (port 0 picks a free one).
                """)
        @Option(help: "Address to listen on, HOST:PORT (IPv4; port 0 picks a free port).") var listen: String = "127.0.0.1:8790"
        @Option(help: "Movies in the catalog (20 per discover page, at most 10000).") var movies: Int = 130
        @Option(help: "Random seed.") var seed: UInt64 = 7
        @Option(help: "Bearer token to require (read from this environment variable; none: no authentication).")
        var tokenEnv: String?
        @Option(help: "Answer every Nth request with a 503 (0: never).") var failEvery: Int = 0
        @Option(help: "Answer every Nth request with a 429 and Retry-After (0: never).") var throttleEvery: Int = 0
        @Option(help: "Requests allowed per second before 429s (0: no limit).") var rateLimit: Int = 0
        @Option(help: "Seconds sent in Retry-After.") var retryAfter: Int = 1

        func validate() throws {
            guard (1...10_000).contains(movies) else { throw ValidationError("--movies must be between 1 and 10000") }
            guard failEvery >= 0, throttleEvery >= 0, rateLimit >= 0, (0...60).contains(retryAfter) else {
                throw ValidationError("--fail-every, --throttle-every and --rate-limit must be 0 or more, --retry-after 0 to 60")
            }
        }

        func run() throws {
            guard let colon = listen.lastIndex(of: ":"), let port = Int(listen[listen.index(after: colon)...]), (0...65_535).contains(port) else {
                throw CLIError("--listen '\(listen)' is not HOST:PORT")
            }
            var token: String?
            if let tokenEnv {
                guard let value = ProcessInfo.processInfo.environment[tokenEnv], !value.isEmpty else {
                    throw CLIError("--token-env \(tokenEnv): that environment variable is not set")
                }
                token = value
            }
            let (listener, bound) = try SampleMoviesServer.bind(host: String(listen[..<colon]), port: port)
            let server = SampleMoviesServer(
                catalog: MoviesCatalog(movies: movies, seed: seed), token: token,
                faults: .init(failEvery: failEvery, throttleEvery: throttleEvery, requestsPerSecond: rateLimit, retryAfter: retryAfter))
            FileHandle.standardOutput.write(Data("listening on http://\(listen[..<colon]):\(bound)/3\n".utf8))
            server.serve(listener)
        }
    }
}
