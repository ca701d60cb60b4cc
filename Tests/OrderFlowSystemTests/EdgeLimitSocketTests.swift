import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

extension SystemTests {
    /// Limits that only show on real connections: header size and idle connections. (The connection cap is not tested
    /// here: NIO accepts connections in batches, so which request waits depends on timing.)
    @Suite("Edge limits over sockets")
    struct EdgeLimitSocketTests {
        @Test("oversized headers are refused and silent connections are closed", .timeLimit(.minutes(1)))
        func socketLimits() async throws {
            let data = try TemporaryDirectory("edge")
            defer { data.remove() }
            let server = try await ServerUnderTest.start(dataDirectory: data, arguments: ["--idle-timeout", "1"])
            defer { server.stop() }
            let port = try #require(URL(string: server.baseURL)?.port)

            let huge = Array("GET /health HTTP/1.1\r\nHost: x\r\nX-Padding: \(String(repeating: "a", count: 40_000))\r\nConnection: close\r\n\r\n".utf8)
            let refused = try RawHTTP.exchange(port: port, request: huge, closeWriteSide: false)
            #expect(!refused.hasPrefix("HTTP/1.1 200"), "\(refused.prefix(200))")

            // A connection that says nothing is closed by the server after the idle timeout (recv sees the end, not our timeout).
            let started = ContinuousClock.now
            let silent = try RawHTTP.exchange(port: port, request: [], closeWriteSide: false, timeout: .seconds(15))
            let waited = ContinuousClock.now - started
            #expect(silent.isEmpty && waited < .seconds(10), "closed after \(waited)")

        }
    }
}
