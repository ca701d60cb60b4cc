import AWSKit
import Testing

@Suite("Static credential providers and the chain")
struct AWSCredentialProviderTests {
    let files = AWSSharedFiles(
        configPath: "/home/app/.aws/config",
        configText: """
            [default]
            region = eu-west-1
            aws_access_key_id = AKIDFROMCONFIG
            aws_secret_access_key = config-secret
            [profile prod]
            aws_access_key_id = AKIDPROD
            aws_secret_access_key = prod-secret
            aws_session_token = prod-token
            [profile assumed]
            role_arn = arn:aws:iam::123456789012:role/orderflow
            source_profile = default
            [profile half]
            aws_access_key_id = AKIDHALF
            """,
        credentialsPath: "/home/app/.aws/credentials",
        credentialsText: """
            [default]
            aws_access_key_id = AKIDDEFAULT
            """
    )

    @Test func environmentGivesKeysAndOptionalToken() async throws {
        let provider = EnvironmentCredentialProvider(environment: [
            "AWS_ACCESS_KEY_ID": "AKIDENV", "AWS_SECRET_ACCESS_KEY": "env-secret", "AWS_SESSION_TOKEN": "env-token",
        ])
        #expect(try await provider.resolve() == .found(AWSCredentials(
            accessKeyID: "AKIDENV", secretAccessKey: "env-secret", sessionToken: "env-token"
        )))
        let withoutToken = EnvironmentCredentialProvider(environment: [
            "AWS_ACCESS_KEY_ID": "AKIDENV", "AWS_SECRET_ACCESS_KEY": "env-secret", "AWS_SESSION_TOKEN": "",
        ])
        #expect(try await withoutToken.resolve() == .found(AWSCredentials(accessKeyID: "AKIDENV", secretAccessKey: "env-secret")))
    }

    @Test func environmentWithoutKeysIsNotFoundAndHalfAKeyIsAnError() async throws {
        guard case .notFound(let reason) = try await EnvironmentCredentialProvider(environment: [:]).resolve() else {
            Issue.record("expected .notFound")
            return
        }
        #expect(reason.contains("AWS_ACCESS_KEY_ID"))
        await #expect(throws: AWSCredentialError.incomplete(source: "the environment", missing: "AWS_SECRET_ACCESS_KEY")) {
            try await EnvironmentCredentialProvider(environment: ["AWS_ACCESS_KEY_ID": "AKID"]).resolve()
        }
        let secretOnly = AWSCredentialError.incomplete(source: "the environment", missing: "AWS_ACCESS_KEY_ID")
        await #expect(throws: secretOnly) {
            try await EnvironmentCredentialProvider(environment: ["AWS_SECRET_ACCESS_KEY": "s3cr3t-value"]).resolve()
        }
        #expect(!secretOnly.description.contains("s3cr3t-value"))
    }

    @Test func profileReadsTheConfigFileWithItsPrefix() async throws {
        let provider = ProfileCredentialProvider(profile: "prod", files: files)
        #expect(try await provider.resolve() == .found(AWSCredentials(
            accessKeyID: "AKIDPROD", secretAccessKey: "prod-secret", sessionToken: "prod-token"
        )))
    }

    @Test func credentialsFileWinsKeyByKeyOverTheConfigFile() async throws {
        let provider = ProfileCredentialProvider(profile: "default", files: files)
        #expect(try await provider.resolve() == .found(AWSCredentials(accessKeyID: "AKIDDEFAULT", secretAccessKey: "config-secret")))
    }

    @Test func unknownProfileIsNotFoundUnlessItWasAskedForByName() async throws {
        guard case .notFound(let reason) = try await ProfileCredentialProvider(profile: "ghost", files: files).resolve() else {
            Issue.record("expected .notFound")
            return
        }
        #expect(reason.contains("/home/app/.aws/credentials"))
        let error = AWSCredentialError.profileNotFound(profile: "ghost", searched: ["/home/app/.aws/credentials", "/home/app/.aws/config"])
        await #expect(throws: error) {
            try await ProfileCredentialProvider(profile: "ghost", files: files, profileIsRequired: true).resolve()
        }
        #expect(error.description.contains("AWS_PROFILE"))
    }

    @Test func unsupportedProfileKindsAreNamedAndHalfAKeyIsAnError() async throws {
        guard case .notFound(let reason) = try await ProfileCredentialProvider(profile: "assumed", files: files).resolve() else {
            Issue.record("expected .notFound")
            return
        }
        #expect(reason.contains("role_arn"))
        await #expect(throws: AWSCredentialError.incomplete(source: "profile \"half\"", missing: "aws_secret_access_key")) {
            try await ProfileCredentialProvider(profile: "half", files: files).resolve()
        }
    }

    @Test func chainPrefersTheEnvironmentThenTheProfile() async throws {
        let environment = ["AWS_ACCESS_KEY_ID": "AKIDENV", "AWS_SECRET_ACCESS_KEY": "env-secret", "AWS_PROFILE": "prod"]
        let fromEnvironment = try await AWSCredentialChain.standard(environment: environment, files: files).credentials()
        #expect(fromEnvironment.accessKeyID == "AKIDENV")

        let fromProfile = try await AWSCredentialChain.standard(environment: ["AWS_PROFILE": "prod"], files: files).credentials()
        #expect(fromProfile.accessKeyID == "AKIDPROD")

        // Only names are read here: nothing is resolved, so the real instance metadata address is never called.
        let chain = AWSCredentialChain.standard(environment: [:], files: files)
        #expect(chain.providers.map(\.name) == ["environment", "profile \"default\"", "instance metadata"])
    }

    @Test func chainAcceptsLaterProvidersInOrder() async throws {
        let empty = EnvironmentCredentialProvider(environment: [:])
        let second = EnvironmentCredentialProvider(environment: ["AWS_ACCESS_KEY_ID": "AKIDSECOND", "AWS_SECRET_ACCESS_KEY": "s"])
        let third = EnvironmentCredentialProvider(environment: ["AWS_ACCESS_KEY_ID": "AKIDTHIRD", "AWS_SECRET_ACCESS_KEY": "s"])
        let chain = AWSCredentialChain.standard(environment: [:], files: .none, container: second, instanceMetadata: third)
        #expect(chain.providers.count == 4)
        #expect(try await chain.credentials().accessKeyID == "AKIDSECOND")
        #expect(try await AWSCredentialChain(providers: [empty, third, second]).credentials().accessKeyID == "AKIDTHIRD")
    }

    @Test func chainStopsAtABrokenSourceRatherThanFallingThrough() async {
        let environment = ["AWS_ACCESS_KEY_ID": "AKIDENV", "AWS_PROFILE": "prod"]
        await #expect(throws: AWSCredentialError.incomplete(source: "the environment", missing: "AWS_SECRET_ACCESS_KEY")) {
            try await AWSCredentialChain.standard(environment: environment, files: files).credentials()
        }
    }

    @Test func emptyChainErrorListsEveryAttemptOnOneLine() async throws {
        let chain = AWSCredentialChain.standard(environment: ["AWS_EC2_METADATA_DISABLED": "true"], files: .none)
        do throws(AWSCredentialError) {
            _ = try await chain.credentials()
            Issue.record("expected no credentials")
        } catch {
            guard case .noCredentials(let attempts) = error else {
                Issue.record("expected .noCredentials, got \(error)")
                return
            }
            #expect(attempts.map(\.provider) == ["environment", "profile \"default\""])
            #expect(!error.description.contains("\n"))
            #expect(error.description.contains("AWS_ACCESS_KEY_ID"))
            #expect(error.description.contains("~/.aws/credentials"))
        }
        guard case .notFound = try await chain.resolve() else {
            Issue.record("a chain with nothing to find resolves to .notFound")
            return
        }
    }
}
