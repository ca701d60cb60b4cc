import AWSKit
import Foundation
import Testing

@Suite("The standard chain with the container and instance-metadata providers")
struct AWSCredentialChainTests {
    let files = AWSSharedFiles(
        configPath: "/home/app/.aws/config", configText: nil,
        credentialsPath: "/home/app/.aws/credentials",
        credentialsText: """
            [default]
            aws_access_key_id = AKIDPROFILE
            aws_secret_access_key = profile-secret
            """
    )

    /// Every source configured, the container and IMDS both pointing at the local server.
    func environment(_ server: CredentialEndpointServer) -> [String: String] {
        [
            "AWS_ACCESS_KEY_ID": "AKIDENVIRONMENT",
            "AWS_SECRET_ACCESS_KEY": "environment-secret",
            "AWS_CONTAINER_CREDENTIALS_FULL_URI": server.containerURL,
            "AWS_EC2_METADATA_SERVICE_ENDPOINT": server.baseURL,
        ]
    }

    @Test func environmentBeatsProfileBeatsContainerBeatsInstanceMetadata() async throws {
        try await CredentialEndpointServer.with { server async throws in
            var environment = environment(server)
            let all = AWSCredentialChain.standard(environment: environment, files: files)
            #expect(all.providers.map(\.name) == ["environment", "profile \"default\"", "container", "instance metadata"])
            #expect(try await all.credentials().accessKeyID == "AKIDENVIRONMENT")
            #expect(try await AWSCredentialChain.standard(environment: environment, files: files).credentials().accessKeyID
                == "AKIDENVIRONMENT")
            #expect(server.requests.isEmpty, "a later provider was asked although an earlier one had credentials")

            environment["AWS_ACCESS_KEY_ID"] = nil
            environment["AWS_SECRET_ACCESS_KEY"] = nil
            #expect(try await AWSCredentialChain.standard(environment: environment, files: files).credentials().accessKeyID
                == "AKIDPROFILE")
            #expect(server.requests.isEmpty)

            #expect(try await AWSCredentialChain.standard(environment: environment, files: .none).credentials().accessKeyID
                == "ASIACONTAINEREXAMPLE")
            #expect(server.requests.map(\.path) == ["/v2/credentials/6a1b7f0e-task-role"])

            environment["AWS_CONTAINER_CREDENTIALS_FULL_URI"] = nil
            let instanceOnly = AWSCredentialChain.standard(environment: environment, files: .none)
            #expect(instanceOnly.providers.map(\.name) == ["environment", "profile \"default\"", "instance metadata"])
            #expect(try await instanceOnly.credentials().accessKeyID == "ASIAIMDSEXAMPLE")
        }
    }

    @Test func theStandardChainCachesWhatTheEndpointsHandOut() async throws {
        try await CredentialEndpointServer.with { server async throws in
            var environment = environment(server)
            environment["AWS_ACCESS_KEY_ID"] = nil
            environment["AWS_SECRET_ACCESS_KEY"] = nil
            // The served credentials expire in 2033, far outside the refresh margin.
            server.update { $0.containerCredentials.expiration = Date(timeIntervalSince1970: 2_000_000_000) }
            let chain = AWSCredentialChain.standard(environment: environment, files: .none)
            for _ in 0..<3 {
                #expect(try await chain.credentials().accessKeyID == "ASIACONTAINEREXAMPLE")
            }
            #expect(server.requests.count == 1)
        }
    }

    @Test func whenEveryProviderFailsTheErrorListsThemAll() async throws {
        var settings = CredentialEndpointServer.Settings()
        settings.roleName = nil
        try await CredentialEndpointServer.with(settings) { server async throws in
            let chain = AWSCredentialChain.standard(
                environment: ["AWS_EC2_METADATA_SERVICE_ENDPOINT": server.baseURL],
                files: .none,
                container: ContainerCredentialProvider(environment: [:])
            )
            do throws(AWSCredentialError) {
                _ = try await chain.credentials()
                Issue.record("no provider has credentials")
            } catch {
                guard case .noCredentials(let attempts) = error else {
                    Issue.record("expected .noCredentials, got \(error)")
                    return
                }
                #expect(attempts.map(\.provider) == ["environment", "profile \"default\"", "container", "instance metadata"])
                #expect(error.description.contains("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"))
                #expect(error.description.contains("no IAM role"))
                #expect(!error.description.contains("\n"))
            }
        }
    }

    @Test func disabledInstanceMetadataAndAnUnsetContainerAreLeftOut() {
        let chain = AWSCredentialChain.standard(environment: ["AWS_EC2_METADATA_DISABLED": "true"], files: .none)
        #expect(chain.providers.map(\.name) == ["environment", "profile \"default\""])
    }

    @Test func aBrokenContainerSetupStopsTheChainInsteadOfFallingThroughToTheInstanceRole() async throws {
        try await CredentialEndpointServer.with { server async throws in
            var environment = environment(server)
            environment["AWS_ACCESS_KEY_ID"] = nil
            environment["AWS_SECRET_ACCESS_KEY"] = nil
            server.update { $0.containerAuthorization = "required-token" }
            await #expect(throws: AWSCredentialError.endpointStatus(
                source: "container", endpoint: server.containerURL, status: 401
            )) {
                try await AWSCredentialChain.standard(environment: environment, files: .none).credentials()
            }
            #expect(!server.requests.contains { $0.path.hasPrefix("/latest/") })
        }
    }
}
