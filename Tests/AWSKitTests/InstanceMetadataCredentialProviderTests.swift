@testable import AWSKit
import Foundation
import Testing

@Suite("EC2 instance metadata (IMDSv2) credentials")
struct InstanceMetadataCredentialProviderTests {
    let rolesPath = "/latest/meta-data/iam/security-credentials/"
    let rolePath = "/latest/meta-data/iam/security-credentials/orderflow-instance-role"

    func provider(_ server: CredentialEndpointServer, clock: TestClock = TestClock()) -> InstanceMetadataCredentialProvider {
        // A generous limit: this shared machine can be slow; failing fast is asserted by error kind instead.
        InstanceMetadataCredentialProvider(
            environment: ["AWS_EC2_METADATA_SERVICE_ENDPOINT": server.baseURL + "/"], timeout: .seconds(10), now: clock.source
        )
    }

    @Test func theTestServerRequiresIMDSv2LikeAHardenedInstance() async throws {
        try await CredentialEndpointServer.with { server async throws in
            #expect(server.reply(method: "GET", path: rolesPath, headers: [:]).status == 401)
            #expect(server.reply(method: "GET", path: rolesPath, headers: ["x-aws-ec2-metadata-token": "forged"]).status == 401)
            #expect(server.reply(method: "GET", path: "/latest/api/token", headers: [:]).status == 405)
            #expect(server.reply(method: "PUT", path: "/latest/api/token", headers: [:]).status == 400)
        }
    }

    @Test func theTokenIsFetchedFirstAndSentOnEveryMetadataRequest() async throws {
        try await CredentialEndpointServer.with { server async throws in
            let resolution = try await provider(server).resolve()
            #expect(resolution == .found(AWSCredentials(
                accessKeyID: "ASIAIMDSEXAMPLE", secretAccessKey: "imds-secret-value",
                sessionToken: "imds-session-token-value", expiration: Date(timeIntervalSince1970: 1_700_021_600)
            )))
            let requests = server.requests
            #expect(requests.map { "\($0.method) \($0.path)" } == [
                "PUT /latest/api/token", "GET \(rolesPath)", "GET \(rolePath)",
            ])
            #expect(requests.first?.headers["x-aws-ec2-metadata-token-ttl-seconds"] == "21600")
            #expect(requests.first?.headers["x-aws-ec2-metadata-token"] == nil)
            let sent = requests.dropFirst().map { $0.headers["x-aws-ec2-metadata-token"] }
            #expect(sent == ["imds-token-1-AQAEAExampleToken", "imds-token-1-AQAEAExampleToken"])
        }
    }

    @Test func theTokenIsReusedAcrossCallsUntilShortlyBeforeItsTTL() async throws {
        try await CredentialEndpointServer.with { server async throws in
            let clock = TestClock()
            let provider = provider(server, clock: clock)
            for _ in 0..<3 {
                _ = try await provider.resolve()
            }
            clock.advance(by: 21_600 - 120)
            _ = try await provider.resolve()
            #expect(server.requests.filter { $0.method == "PUT" }.count == 1)

            // Inside the last minute of the 6-hour TTL a new token is taken before IMDS would refuse the old one.
            clock.advance(by: 90)
            _ = try await provider.resolve()
            let puts = server.requests.filter { $0.method == "PUT" }
            #expect(puts.count == 2)
            #expect(server.requests.last?.headers["x-aws-ec2-metadata-token"] == "imds-token-2-AQAEAExampleToken")
        }
    }

    @Test func aRevokedTokenIsReplacedOnceAfterA401() async throws {
        try await CredentialEndpointServer.with { server async throws in
            let provider = provider(server)
            _ = try await provider.resolve()
            server.revokeTokens()
            guard case .found(let credentials) = try await provider.resolve() else {
                Issue.record("a fresh token must recover from the 401")
                return
            }
            #expect(credentials.accessKeyID == "ASIAIMDSEXAMPLE")
            let second = server.requests.dropFirst(3).map { "\($0.method) \($0.path) \($0.headers["x-aws-ec2-metadata-token"] ?? "-")" }
            #expect(second == [
                "GET \(rolesPath) imds-token-1-AQAEAExampleToken",
                "PUT /latest/api/token -",
                "GET \(rolesPath) imds-token-2-AQAEAExampleToken",
                "GET \(rolePath) imds-token-2-AQAEAExampleToken",
            ])
        }
    }

    @Test func a401WithAFreshTokenIsAnErrorAfterExactlyOneRetry() async throws {
        try await CredentialEndpointServer.with { server async throws in
            server.update { $0.refuseAllTokens = true }
            do throws(AWSCredentialError) {
                _ = try await provider(server).resolve()
                Issue.record("tokens are always refused")
            } catch {
                #expect(error == .endpointStatus(source: "instance metadata", endpoint: server.baseURL + rolesPath, status: 401))
                #expect(!error.description.contains("imds-token"))
            }
            #expect(server.requests.map(\.method) == ["PUT", "GET", "PUT", "GET"])
        }
    }

    @Test func anInstanceWithoutARoleHasNoCredentials() async throws {
        var settings = CredentialEndpointServer.Settings()
        settings.roleName = nil
        try await CredentialEndpointServer.with(settings) { server async throws in
            guard case .notFound(let reason) = try await provider(server).resolve() else {
                Issue.record("expected .notFound")
                return
            }
            #expect(reason.contains("no IAM role"))
        }
    }

    @Test func disabledMeansNoRequestAtAll() async throws {
        try await CredentialEndpointServer.with { server async throws in
            for value in ["true", "TRUE", "True"] {
                let provider = InstanceMetadataCredentialProvider(environment: [
                    "AWS_EC2_METADATA_DISABLED": value, "AWS_EC2_METADATA_SERVICE_ENDPOINT": server.baseURL,
                ])
                #expect(try await provider.resolve() == .notFound(reason: "AWS_EC2_METADATA_DISABLED is true"))
            }
            #expect(server.requests.isEmpty)
            #expect(!InstanceMetadataCredentialProvider.isDisabled(environment: ["AWS_EC2_METADATA_DISABLED": "false"]))
        }
    }

    @Test func anExplicitEndpointThatRefusesConnectionsFailsWithATypedError() async throws {
        let port = try await CredentialEndpointServer.closedPort()
        let provider = InstanceMetadataCredentialProvider(
            environment: ["AWS_EC2_METADATA_SERVICE_ENDPOINT": "http://127.0.0.1:\(port)"], timeout: .seconds(10)
        )
        do throws(AWSCredentialError) {
            _ = try await provider.resolve()
            Issue.record("nothing listens on port \(port)")
        } catch {
            guard case .endpointUnreachable(let source, let endpoint, _) = error else {
                Issue.record("expected .endpointUnreachable, got \(error)")
                return
            }
            #expect(source == "instance metadata")
            #expect(endpoint == "http://127.0.0.1:\(port)/latest/api/token")
        }
    }

    @Test func offEC2TheDefaultEndpointNotAnsweringMeansNoCredentialsHere() async throws {
        let port = try await CredentialEndpointServer.closedPort()
        let provider = InstanceMetadataCredentialProvider(
            environment: [:], httpClient: nil, timeout: .seconds(10), tokenTTLSeconds: 21_600, now: { Date() },
            defaultEndpoint: "http://127.0.0.1:\(port)"
        )
        guard case .notFound(let reason) = try await provider.resolve() else {
            Issue.record("an unreachable default endpoint must let the chain move on")
            return
        }
        #expect(reason.contains("no instance metadata service at http://127.0.0.1:\(port)/latest/api/token"))
    }

    @Test func malformedEndpointSettingsAreErrors() async {
        let badEndpoint = InstanceMetadataCredentialProvider(environment: ["AWS_EC2_METADATA_SERVICE_ENDPOINT": "169.254.169.254"])
        await #expect(throws: AWSCredentialError.endpointNotAllowed(
            variable: "AWS_EC2_METADATA_SERVICE_ENDPOINT", endpoint: "<not a URL>",
            reason: "it must be an absolute http(s) URL such as http://169.254.169.254"
        )) {
            try await badEndpoint.resolve()
        }
        let badMode = InstanceMetadataCredentialProvider(environment: ["AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE": "IPv5"])
        await #expect(throws: AWSCredentialError.endpointNotAllowed(
            variable: "AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE", endpoint: "ipv5", reason: "it must be IPv4 or IPv6"
        )) {
            try await badMode.resolve()
        }
    }

    @Test func anUnusableRoleNameOrAFailedDocumentIsAnError() async throws {
        try await CredentialEndpointServer.with { server async throws in
            let provider = provider(server)
            server.update { $0.roleName = "bad/role" }
            do throws(AWSCredentialError) {
                _ = try await provider.resolve()
                Issue.record("a role name with a slash cannot be put in a path")
            } catch {
                guard case .invalidResponse(_, let endpoint, let reason) = error else {
                    Issue.record("expected .invalidResponse, got \(error)")
                    return
                }
                #expect(endpoint == server.baseURL + rolesPath)
                #expect(reason.contains("no valid IAM role"))
            }
            server.update {
                $0.roleName = "orderflow-instance-role"
                $0.instanceBody = #"{"Code": "AssumeRoleUnauthorizedAccess", "Message": "cannot assume role"}"#
            }
            await #expect(throws: AWSCredentialError.invalidResponse(
                source: "instance metadata", endpoint: server.baseURL + rolePath,
                reason: "Code is \"AssumeRoleUnauthorizedAccess\", not \"Success\""
            )) {
                try await provider.resolve()
            }
        }
    }
}
