import Crypto
import Logging
import OrderFlowCore
import ServiceLifecycle

/// Signs the end of the audit chain every `period` and once more at shutdown, so `orderflow audit verify` also notices
/// entries deleted from the end.
public struct AuditDigestService: Service {
    let trail: any AuditTrail
    let key: Curve25519.Signing.PrivateKey
    let clock: any WallClock
    let period: Duration
    let logger: Logger

    public init(trail: any AuditTrail, key: Curve25519.Signing.PrivateKey, clock: any WallClock, period: Duration = .seconds(60), logger: Logger) {
        self.trail = trail
        self.key = key
        self.clock = clock
        self.period = period
        self.logger = logger
    }

    public func run() async throws {
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            do {
                try await cancelWhenGracefulShutdown { try await Task.sleep(for: period) }
            } catch {
                break
            }
            await sign()
        }
        await sign()
    }

    func sign() async {
        do {
            _ = try await trail.writeDigest(signingKey: key, at: clock.now())
        } catch {
            logger.error("could not write an audit digest", metadata: ["error": "\(error)"])
        }
    }
}
