import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

extension SystemTests {
    /// Limits that only show on real connections: header size, idle connections, the request timeout and the connection
    /// cap.
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

        @Test("a request whose body stalls is answered 408 at the request timeout", .timeLimit(.minutes(1)))
        func requestTimeout() async throws {
            let data = try TemporaryDirectory("request-timeout")
            defer { data.remove() }
            let server = try await ServerUnderTest.start(dataDirectory: data, arguments: ["--request-timeout", "1", "--idle-timeout", "5"])
            defer { server.stop() }
            let port = try #require(URL(string: server.baseURL)?.port)
            // Content-Length promises 100 bytes; 10 come, then nothing: the idle timeout is not reached, the request timeout is.
            let stalled = Array("POST /orders HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"OrderId\":".utf8)
            let answer = try RawHTTP.exchange(port: port, request: stalled, closeWriteSide: false, timeout: .seconds(15))
            #expect(answer.hasPrefix("HTTP/1.1 408"), "\(answer.prefix(300))")
            #expect(answer.contains("application/problem+json") && answer.contains("urn:orderflow:problem:request-timeout"), "\(answer.prefix(600))")
            // Nothing was stored, and the server serves on.
            #expect(try await server.api.send(.GET, "/orders?limit=10").json?["orders"]?.arrayValue?.isEmpty == true)
            #expect(try await server.api.send(.POST, "/orders", json: Array(#"{"OrderId":"t-1","Amount":5}"#.utf8)).status == 201)
        }

        @Test("past --max-connections a new connection waits in the backlog until one closes", .timeLimit(.minutes(1)))
        func connectionCap() async throws {
            let data = try TemporaryDirectory("connection-cap")
            defer { data.remove() }
            let server = try await ServerUnderTest.start(dataDirectory: data, arguments: ["--max-connections", "2"])
            defer { server.stop() }
            let port = try #require(URL(string: server.baseURL)?.port)
            // One at a time, each served before the next opens, so the server has accepted exactly these two.
            let first = try RawConnection(port: port)
            defer { first.close() }
            #expect(try first.get("/health", timeout: .seconds(10))?.hasPrefix("HTTP/1.1 200") == true)
            let second = try RawConnection(port: port)
            defer { second.close() }
            #expect(try second.get("/health", timeout: .seconds(10))?.hasPrefix("HTTP/1.1 200") == true)
            // The third is connected by the kernel but not accepted: its request is not answered while two are open…
            let third = try RawConnection(port: port)
            defer { third.close() }
            #expect(try third.get("/health", timeout: .seconds(2)) == nil)
            // …and is answered once one of them closes.
            first.close()
            #expect(try third.response(timeout: .seconds(10))?.hasPrefix("HTTP/1.1 200") == true)
            #expect(try second.get("/health", timeout: .seconds(10))?.hasPrefix("HTTP/1.1 200") == true)
        }
    }
}
