/// Tries credential providers in order and uses the first that finds credentials.
///
/// The standard order is environment → shared profile files → container (ECS task role, EKS Pod
/// Identity) → instance metadata (IMDSv2). Build the chain once and keep it: the container and
/// instance-metadata links cache their credentials and IMDS session token inside the chain value.
public struct AWSCredentialChain: AWSCredentialProvider {
    /// The providers, in the order they are tried.
    public let providers: [any AWSCredentialProvider]

    /// Creates a chain over `providers`, tried in order.
    public init(providers: [any AWSCredentialProvider]) {
        self.providers = providers
    }

    /// The standard chain for `environment`: environment variables, the `AWS_PROFILE` (or `default`) profile,
    /// the container endpoint, then instance metadata.
    ///
    /// Without `container`, a cached `ContainerCredentialProvider` is added when one of its URI variables is
    /// set; without `instanceMetadata`, a cached `InstanceMetadataCredentialProvider` is added unless
    /// `AWS_EC2_METADATA_DISABLED=true`. Providers that are passed in are used as given, uncached.
    public static func standard(
        environment: [String: String],
        files: AWSSharedFiles,
        container: (any AWSCredentialProvider)? = nil,
        instanceMetadata: (any AWSCredentialProvider)? = nil
    ) -> AWSCredentialChain {
        let profile = AWSConfiguration.profileName(environment: environment)
        var providers: [any AWSCredentialProvider] = [
            EnvironmentCredentialProvider(environment: environment),
            ProfileCredentialProvider(
                profile: profile, files: files, profileIsRequired: environment.nonEmpty("AWS_PROFILE") != nil
            ),
        ]
        if let container {
            providers.append(container)
        } else if ContainerCredentialProvider.isConfigured(environment: environment) {
            providers.append(RefreshingCredentialProvider(ContainerCredentialProvider(environment: environment)))
        }
        if let instanceMetadata {
            providers.append(instanceMetadata)
        } else if !InstanceMetadataCredentialProvider.isDisabled(environment: environment) {
            providers.append(RefreshingCredentialProvider(InstanceMetadataCredentialProvider(environment: environment)))
        }
        return AWSCredentialChain(providers: providers)
    }

    /// `chain(<provider names>)`.
    public var name: String {
        "chain(\(providers.map(\.name).joined(separator: ", ")))"
    }

    /// The first provider's credentials, or `.notFound` listing every provider's reason.
    public func resolve() async throws(AWSCredentialError) -> AWSCredentialResolution {
        let (credentials, attempts) = try await search()
        if let credentials {
            return .found(credentials)
        }
        return .notFound(reason: attempts.map { "\($0.provider): \($0.reason)" }.joined(separator: "; "))
    }

    /// The first provider's credentials; throws `.noCredentials` naming every provider tried when none has any.
    public func credentials() async throws(AWSCredentialError) -> AWSCredentials {
        let (credentials, attempts) = try await search()
        guard let credentials else { throw .noCredentials(attempts: attempts) }
        return credentials
    }

    private func search() async throws(AWSCredentialError) -> (AWSCredentials?, [AWSCredentialError.Attempt]) {
        var attempts: [AWSCredentialError.Attempt] = []
        for provider in providers {
            switch try await provider.resolve() {
            case .found(let credentials):
                return (credentials, attempts)
            case .notFound(let reason):
                attempts.append(AWSCredentialError.Attempt(provider: provider.name, reason: reason))
            }
        }
        return (nil, attempts)
    }
}
