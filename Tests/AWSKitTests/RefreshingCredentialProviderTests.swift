@testable import AWSKit
import Foundation
import Synchronization
import Testing

@Suite("Caching and refreshing expiring credentials")
struct RefreshingCredentialProviderTests {
    let clock = TestClock()

    func credentials(_ id: String, expiresIn seconds: TimeInterval?) -> AWSCredentials {
        AWSCredentials(
            accessKeyID: id, secretAccessKey: "secret-\(id)", sessionToken: "token-\(id)",
            expiration: seconds.map { clock.now.addingTimeInterval($0) }
        )
    }

    @Test func credentialsAreReusedUntilTheMarginAndRefetchedInsideIt() async throws {
        let first = credentials("ASIAFIRST", expiresIn: 3600)
        let second = credentials("ASIASECOND", expiresIn: 7200)
        let base = ScriptedCredentialProvider([.success(.found(first)), .success(.found(second))])
        let provider = RefreshingCredentialProvider(base, refreshMargin: .seconds(300), now: clock.source)

        #expect(try await provider.resolve() == .found(first))
        clock.advance(by: 3600 - 301)
        #expect(try await provider.resolve() == .found(first))
        #expect(base.calls == 1)

        clock.advance(by: 2)
        #expect(try await provider.resolve() == .found(second))
        #expect(try await provider.resolve() == .found(second))
        #expect(base.calls == 2)
    }

    @Test func twentyConcurrentCallersDuringARefreshShareOneFetch() async throws {
        let first = credentials("ASIAFIRST", expiresIn: 3600)
        let second = credentials("ASIASECOND", expiresIn: 7200)
        let base = ScriptedCredentialProvider([.success(.found(first)), .success(.found(second))], heldCalls: [2])
        let (arrivals, arrival) = AsyncStream<Void>.makeStream()
        let provider = RefreshingCredentialProvider(
            base, refreshMargin: .seconds(300), retryInterval: .seconds(30), now: clock.source,
            waitingForRefresh: { arrival.yield() }
        )
        #expect(try await provider.resolve() == .found(first))
        clock.advance(by: 3600 - 60)

        let results = try await withThrowingTaskGroup(of: AWSCredentialResolution.self) { group in
            for _ in 0..<20 {
                group.addTask { try await provider.resolve() }
            }
            // The held fetch is released only once all twenty callers are waiting on a refresh, so
            // every one of them arrived while it was in flight (the first arrival is the priming call).
            var arrived = 0
            for await _ in arrivals {
                arrived += 1
                if arrived == 1 + 20 { break }
            }
            base.release()
            var results: [AWSCredentialResolution] = []
            for try await result in group {
                results.append(result)
            }
            return results
        }
        #expect(results.count == 20)
        #expect(results.allSatisfy { $0 == .found(second) })
        #expect(base.calls == 2)
    }

    @Test func aFailedRefreshKeepsStillValidCredentialsAndRetriesLater() async throws {
        let first = credentials("ASIAFIRST", expiresIn: 3600)
        let third = credentials("ASIATHIRD", expiresIn: 7200)
        let outage = AWSCredentialError.endpointUnreachable(source: "scripted", endpoint: "http://127.0.0.1:1", reason: "refused")
        let base = ScriptedCredentialProvider([
            .success(.found(first)), .failure(outage), .success(.notFound(reason: "gone")), .success(.found(third)),
        ])
        let provider = RefreshingCredentialProvider(base, refreshMargin: .seconds(300), retryInterval: .seconds(30), now: clock.source)
        _ = try await provider.resolve()

        clock.advance(by: 3600 - 120)
        #expect(try await provider.resolve() == .found(first))
        #expect(base.calls == 2)
        // Within the retry interval the failing source is left alone.
        clock.advance(by: 29)
        #expect(try await provider.resolve() == .found(first))
        #expect(base.calls == 2)
        // Finding nothing is treated like a failure while the old credentials are valid.
        clock.advance(by: 2)
        #expect(try await provider.resolve() == .found(first))
        #expect(base.calls == 3)
        clock.advance(by: 31)
        #expect(try await provider.resolve() == .found(third))
        #expect(base.calls == 4)
    }

    @Test func expiredCredentialsAreNeverServedWhenTheRefreshFails() async throws {
        let first = credentials("ASIAFIRST", expiresIn: 3600)
        let outage = AWSCredentialError.endpointStatus(source: "scripted", endpoint: "http://127.0.0.1:1/creds", status: 500)
        let base = ScriptedCredentialProvider([.success(.found(first)), .failure(outage), .success(.notFound(reason: "gone"))])
        let provider = RefreshingCredentialProvider(base, now: clock.source)
        _ = try await provider.resolve()

        clock.advance(by: 3600)
        await #expect(throws: outage) {
            try await provider.resolve()
        }
        #expect(try await provider.resolve() == .notFound(reason: "gone"))
        #expect(base.calls == 3)
    }

    @Test func credentialsThatArriveInsideTheMarginAreNotRefetchedOnEveryCall() async throws {
        let nearlyExpired = credentials("ASIANEAR", expiresIn: 120)
        let base = ScriptedCredentialProvider([.success(.found(nearlyExpired))])
        let provider = RefreshingCredentialProvider(base, refreshMargin: .seconds(300), retryInterval: .seconds(30), now: clock.source)
        for _ in 0..<5 {
            #expect(try await provider.resolve() == .found(nearlyExpired))
        }
        #expect(base.calls == 1)
        clock.advance(by: 31)
        _ = try await provider.resolve()
        #expect(base.calls == 2)
    }

    @Test func notFoundIsPassedOnAndCredentialsWithoutExpirationAreKept() async throws {
        let longTerm = credentials("AKIALONGTERM", expiresIn: nil)
        let base = ScriptedCredentialProvider([.success(.notFound(reason: "not yet")), .success(.found(longTerm))])
        let provider = RefreshingCredentialProvider(base, now: clock.source)
        #expect(try await provider.resolve() == .notFound(reason: "not yet"))
        #expect(try await provider.resolve() == .found(longTerm))
        clock.advance(by: 365 * 24 * 3600)
        #expect(try await provider.resolve() == .found(longTerm))
        #expect(base.calls == 2)
        #expect(provider.name == "scripted")
    }
}
