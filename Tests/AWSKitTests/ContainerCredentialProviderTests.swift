@testable import AWSKit
import Foundation
import Testing

@Suite("Container (ECS / EKS Pod Identity) credentials")
struct ContainerCredentialProviderTests {
    /// Generous per-request limit: the shared 2-core machine can be slow; fast failure is asserted by error kind.
    let timeout = Duration.seconds(10)

    @Test func relativeURIIsResolvedAgainstTheECSAgentAddress() throws {
        let endpoint = try ContainerEndpoint.resolve(environment: [
            "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI": "/v2/credentials/6a1b7f0e",
            "AWS_CONTAINER_CREDENTIALS_FULL_URI": "http://127.0.0.1:9999/ignored",
        ])
        #expect(endpoint?.url == "http://169.254.170.2/v2/credentials/6a1b7f0e")
        #expect(endpoint?.authorization == nil)
        let withoutSlash = try ContainerEndpoint.resolve(environment: ["AWS_CONTAINER_CREDENTIALS_RELATIVE_URI": "v2/creds"])
        #expect(withoutSlash?.url == "http://169.254.170.2/v2/creds")
        #expect(try ContainerEndpoint.resolve(environment: [:]) == nil)
    }

    @Test func fullURIWithATokenSendsItAsTheAuthorizationHeader() async throws {
        var settings = CredentialEndpointServer.Settings()
        settings.containerAuthorization = "Basic c2VydmljZS10b2tlbg=="
        try await CredentialEndpointServer.with(settings) { server async throws in
            let provider = ContainerCredentialProvider(environment: [
                "AWS_CONTAINER_CREDENTIALS_FULL_URI": server.containerURL,
                "AWS_CONTAINER_AUTHORIZATION_TOKEN": "Basic c2VydmljZS10b2tlbg==",
            ], timeout: timeout)
            let resolution = try await provider.resolve()
            #expect(resolution == .found(AWSCredentials(
                accessKeyID: "ASIACONTAINEREXAMPLE", secretAccessKey: "container-secret-value",
                sessionToken: "container-session-token-value", expiration: Date(timeIntervalSince1970: 1_700_021_600)
            )))
            let requests = server.requests
            #expect(requests.count == 1)
            #expect(requests.first?.method == "GET")
            #expect(requests.first?.path == "/v2/credentials/6a1b7f0e-task-role")
            #expect(requests.first?.headers["authorization"] == "Basic c2VydmljZS10b2tlbg==")
        }
    }

    @Test func tokenFileWinsOverTheVariableAndIsReadForEveryRequest() async throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("eks-pod-identity-token-\(UUID())")
        defer { try? FileManager.default.removeItem(at: file) }
        try "first-rotated-token\n".write(to: file, atomically: true, encoding: .utf8)
        var settings = CredentialEndpointServer.Settings()
        settings.containerAuthorization = "first-rotated-token"
        try await CredentialEndpointServer.with(settings) { server async throws in
            let provider = ContainerCredentialProvider(environment: [
                "AWS_CONTAINER_CREDENTIALS_FULL_URI": server.containerURL,
                "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE": file.path,
                "AWS_CONTAINER_AUTHORIZATION_TOKEN": "stale-variable-token",
            ], timeout: timeout)
            guard case .found(let first) = try await provider.resolve() else {
                Issue.record("expected credentials with the token from the file")
                return
            }
            #expect(first.accessKeyID == "ASIACONTAINEREXAMPLE")

            try "second-rotated-token\n".write(to: file, atomically: true, encoding: .utf8)
            server.update { $0.containerAuthorization = "second-rotated-token" }
            guard case .found = try await provider.resolve() else {
                Issue.record("expected credentials with the rotated token")
                return
            }
            #expect(server.requests.map { $0.headers["authorization"] } == ["first-rotated-token", "second-rotated-token"])
        }
    }

    @Test func aRefusedTokenIsAnErrorThatDoesNotShowIt() async throws {
        var settings = CredentialEndpointServer.Settings()
        settings.containerAuthorization = "the-right-token"
        try await CredentialEndpointServer.with(settings) { server async throws in
            let provider = ContainerCredentialProvider(environment: [
                "AWS_CONTAINER_CREDENTIALS_FULL_URI": server.containerURL,
                "AWS_CONTAINER_AUTHORIZATION_TOKEN": "a-wrong-token-value",
            ], timeout: timeout)
            do throws(AWSCredentialError) {
                _ = try await provider.resolve()
                Issue.record("a refused token must be an error")
            } catch {
                #expect(error == .endpointStatus(
                    source: "container", endpoint: "http://127.0.0.1:\(server.port)/v2/credentials/6a1b7f0e-task-role", status: 401
                ))
                #expect(!error.description.contains("a-wrong-token-value"))
                #expect(error.description.contains("401"))
            }
        }
    }

    @Test func disallowedFullURIsAreRefusedBeforeAnyRequest() async throws {
        try await CredentialEndpointServer.with { server async throws in
            // 0.0.0.0 reaches this machine's listeners on Linux but is not a loopback address, so
            // a broken check would show up as a request on the local server rather than on a network.
            for uri in ["http://0.0.0.0:\(server.port)/v2/credentials/x", "ftp://127.0.0.1:\(server.port)/creds", "not a url"] {
                let provider = ContainerCredentialProvider(
                    environment: ["AWS_CONTAINER_CREDENTIALS_FULL_URI": uri, "AWS_CONTAINER_AUTHORIZATION_TOKEN": "tok"],
                    timeout: timeout
                )
                do throws(AWSCredentialError) {
                    _ = try await provider.resolve()
                    Issue.record("\(uri) must not be used")
                } catch {
                    guard case .endpointNotAllowed(let variable, _, _) = error else {
                        Issue.record("expected .endpointNotAllowed for \(uri), got \(error)")
                        continue
                    }
                    #expect(variable == "AWS_CONTAINER_CREDENTIALS_FULL_URI")
                }
            }
            #expect(server.requests.isEmpty)
        }
    }

    @Test func plainHTTPIsAllowedOnlyToLoopbackAndTheAgentAddresses() throws {
        for host in ["127.0.0.1", "127.8.9.10", "localhost", "LOCALHOST", "::1", "[::1]", "169.254.170.2", "169.254.170.23",
                     "fd00:ec2::23", "[fd00:ec2:0:0:0:0:0:23]"] {
            #expect(ContainerEndpoint.isAllowedPlainHTTPHost(host), "\(host) should be allowed")
        }
        for host in ["0.0.0.0", "10.0.0.1", "169.254.169.254", "169.254.170.3", "192.168.1.1", "example.com",
                     "127.0.0.1.example.com", "fd00:ec2::254", "::2", ""] {
            #expect(!ContainerEndpoint.isAllowedPlainHTTPHost(host), "\(host) should be refused")
        }
        let https = try ContainerEndpoint.resolve(environment: ["AWS_CONTAINER_CREDENTIALS_FULL_URI": "https://creds.example.com/role"])
        #expect(https?.url == "https://creds.example.com/role")
        let ipv6 = try ContainerEndpoint.resolve(environment: ["AWS_CONTAINER_CREDENTIALS_FULL_URI": "http://[fd00:ec2::23]/v1/credentials"])
        #expect(ipv6?.shownAs == "http://[fd00:ec2::23]/v1/credentials")
    }

    @Test func errorsShowTheEndpointWithoutUserInfoOrQuery() {
        let environment = ["AWS_CONTAINER_CREDENTIALS_FULL_URI": "http://user:hunter2@10.1.2.3:8080/creds?sig=s3cret"]
        do throws(AWSCredentialError) {
            _ = try ContainerEndpoint.resolve(environment: environment)
            Issue.record("10.1.2.3 over http must be refused")
        } catch {
            #expect(error.description.contains("http://10.1.2.3:8080/creds"))
            #expect(!error.description.contains("hunter2"))
            #expect(!error.description.contains("s3cret"))
        }
    }

    @Test func malformedDocumentsAreTypedErrorsNamingTheField() async throws {
        try await CredentialEndpointServer.with { server async throws in
            let provider = ContainerCredentialProvider(
                environment: ["AWS_CONTAINER_CREDENTIALS_FULL_URI": server.containerURL], timeout: timeout
            )
            let cases: [(body: String, reason: String)] = [
                ("<html>not json</html>", "not a JSON object"),
                (#"{"AccessKeyId": "ASIAX", "Token": "t", "Expiration": "2024-05-01T12:00:00Z"}"#, "SecretAccessKey is missing"),
                (#"{"AccessKeyId": "ASIAX", "SecretAccessKey": "leak-me", "Expiration": "tomorrow"}"#, "not an ISO 8601"),
                (#"{"AccessKeyId": "ASIAX", "SecretAccessKey": "leak-me"}"#, "Expiration is missing"),
            ]
            for (body, reason) in cases {
                server.update { $0.containerBody = body }
                do throws(AWSCredentialError) {
                    _ = try await provider.resolve()
                    Issue.record("\(body) must be rejected")
                } catch {
                    guard case .invalidResponse(let source, _, let actual) = error else {
                        Issue.record("expected .invalidResponse, got \(error)")
                        continue
                    }
                    #expect(source == "container")
                    #expect(actual.contains(reason))
                    #expect(!error.description.contains("leak-me"))
                }
            }
            let fractional = #"{"AccessKeyId": "ASIAX", "SecretAccessKey": "s", "Expiration": "2024-05-01T12:00:00.250Z"}"#
            server.update { $0.containerBody = fractional }
            guard case .found(let credentials) = try await provider.resolve() else {
                Issue.record("fractional seconds are valid ISO 8601")
                return
            }
            #expect(credentials.expiration == Date(timeIntervalSince1970: 1_714_564_800.25))
            #expect(credentials.sessionToken == nil)
        }
    }

    @Test func aRefusedConnectionIsAnUnreachableError() async throws {
        let port = try await CredentialEndpointServer.closedPort()
        let provider = ContainerCredentialProvider(
            environment: ["AWS_CONTAINER_CREDENTIALS_FULL_URI": "http://127.0.0.1:\(port)/creds"], timeout: timeout
        )
        do throws(AWSCredentialError) {
            _ = try await provider.resolve()
            Issue.record("nothing listens on port \(port)")
        } catch {
            guard case .endpointUnreachable(let source, let endpoint, _) = error else {
                Issue.record("expected .endpointUnreachable, got \(error)")
                return
            }
            #expect(source == "container")
            #expect(endpoint == "http://127.0.0.1:\(port)/creds")
        }
    }

    @Test func unusableTokensAreErrorsBeforeAnyRequest() async throws {
        try await CredentialEndpointServer.with { server async throws in
            let missingFile = ContainerCredentialProvider(environment: [
                "AWS_CONTAINER_CREDENTIALS_FULL_URI": server.containerURL,
                "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE": "/nonexistent/eks-pod-identity-token",
            ], timeout: timeout)
            await #expect(throws: AWSCredentialError.unusableAuthorizationToken(
                source: "/nonexistent/eks-pod-identity-token",
                reason: "the file cannot be read as UTF-8 text (AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE)"
            )) {
                try await missingFile.resolve()
            }
            let headerInjection = ContainerCredentialProvider(environment: [
                "AWS_CONTAINER_CREDENTIALS_FULL_URI": server.containerURL,
                "AWS_CONTAINER_AUTHORIZATION_TOKEN": "token\r\nX-Injected: yes",
            ], timeout: timeout)
            await #expect(throws: AWSCredentialError.unusableAuthorizationToken(
                source: "AWS_CONTAINER_AUTHORIZATION_TOKEN", reason: "it contains a line break or another control character"
            )) {
                try await headerInjection.resolve()
            }
            #expect(server.requests.isEmpty)
        }
    }

    @Test func withoutEitherURIVariableTheProviderDoesNotApply() async throws {
        guard case .notFound(let reason) = try await ContainerCredentialProvider(environment: [:]).resolve() else {
            Issue.record("expected .notFound")
            return
        }
        #expect(reason.contains("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"))
        #expect(!ContainerCredentialProvider.isConfigured(environment: ["AWS_CONTAINER_CREDENTIALS_FULL_URI": ""]))
        #expect(ContainerCredentialProvider.isConfigured(environment: ["AWS_CONTAINER_CREDENTIALS_RELATIVE_URI": "/v2/x"]))
    }
}
