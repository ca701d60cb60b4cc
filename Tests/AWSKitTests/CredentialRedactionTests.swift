import AWSKit
import Foundation
import Testing

@Suite("Providers never print the secrets they hold")
struct CredentialRedactionTests {
    static let secrets = [
        "environment-secret-value", "environment-session-token", "profile-secret-value", "profile-session-token",
        "container-authorization-token", "container-secret-value", "container-session-token-value",
        "imds-secret-value", "imds-session-token-value", "AQAEAExampleToken",
    ]

    func texts(of value: Any) -> [String] {
        var dumped = ""
        dump(value, to: &dumped)
        return ["\(value)", String(describing: value), String(reflecting: value), dumped]
    }

    func expectNoSecret(in value: Any, _ comment: Comment) {
        for text in texts(of: value) {
            for secret in Self.secrets {
                #expect(!text.contains(secret), comment)
            }
        }
    }

    @Test func everyProviderPrintsOnlyItsName() async throws {
        try await CredentialEndpointServer.with { server async throws in
            server.update { $0.containerAuthorization = "container-authorization-token" }
            let environment = [
                "AWS_ACCESS_KEY_ID": "AKIDENV", "AWS_SECRET_ACCESS_KEY": "environment-secret-value",
                "AWS_SESSION_TOKEN": "environment-session-token",
                "AWS_CONTAINER_CREDENTIALS_FULL_URI": server.containerURL,
                "AWS_CONTAINER_AUTHORIZATION_TOKEN": "container-authorization-token",
                "AWS_EC2_METADATA_SERVICE_ENDPOINT": server.baseURL,
            ]
            let files = AWSSharedFiles(
                configPath: nil, configText: nil, credentialsPath: "/home/app/.aws/credentials",
                credentialsText: """
                    [default]
                    aws_access_key_id = AKIDPROFILE
                    aws_secret_access_key = profile-secret-value
                    aws_session_token = profile-session-token
                    """
            )
            let container = ContainerCredentialProvider(environment: environment, timeout: .seconds(10))
            let instance = InstanceMetadataCredentialProvider(environment: environment, timeout: .seconds(10))
            let refreshing = RefreshingCredentialProvider(container)
            let providers: [any AWSCredentialProvider] = [
                EnvironmentCredentialProvider(environment: environment),
                ProfileCredentialProvider(profile: "default", files: files),
                container, instance, refreshing,
                AWSCredentialChain.standard(environment: environment, files: files),
            ]
            // Resolve first so that caches hold credentials and the IMDS session holds a token.
            var fetched: [AWSCredentials] = []
            for provider in providers {
                if case .found(let credentials) = try await provider.resolve() {
                    fetched.append(credentials)
                }
            }
            #expect(fetched.count == providers.count)
            #expect(fetched.contains { $0.secretAccessKey == "imds-secret-value" })
            for provider in providers {
                expectNoSecret(in: provider, "\(type(of: provider))")
                #expect("\(provider)".contains(provider.name))
            }
            for credentials in fetched {
                expectNoSecret(in: credentials, "credentials from \(credentials.accessKeyID)")
            }
        }
    }
}
