import Foundation

/// Region, profile and endpoints resolved the way the AWS CLI and SDKs resolve them.
///
/// Resolution is a pure function of the environment variables and the shared files passed in,
/// so the composition root reads the process environment once and tests need neither.
public struct AWSConfiguration: Sendable, Equatable {
    /// The selected profile (`AWS_PROFILE`, else `default`).
    public let profile: String
    /// The region requests are signed for and sent to.
    public let region: String
    /// `AWS_ENDPOINT_URL`, applying to every service without its own override.
    public let globalEndpoint: URL?
    /// `AWS_ENDPOINT_URL_<SERVICE>` overrides keyed by the service's environment suffix (e.g. `DYNAMODB`).
    public let serviceEndpoints: [String: URL]

    /// Creates a configuration directly, e.g. for tests of service clients; the region must be a region name.
    public init(
        profile: String = "default",
        region: String,
        globalEndpoint: URL? = nil,
        serviceEndpoints: [String: URL] = [:]
    ) throws(AWSConfigurationError) {
        guard Self.isRegionName(region) else { throw .invalidRegion(region, source: "the caller") }
        self.profile = profile
        self.region = region
        self.globalEndpoint = globalEndpoint
        self.serviceEndpoints = serviceEndpoints
    }

    /// The profile the environment selects: `AWS_PROFILE`, else `default`.
    public static func profileName(environment: [String: String]) -> String {
        environment.nonEmpty("AWS_PROFILE") ?? "default"
    }

    /// Resolves region (`AWS_REGION`, `AWS_DEFAULT_REGION`, then the profile's `region`) and endpoint overrides.
    public static func resolve(
        environment: [String: String],
        files: AWSSharedFiles
    ) throws(AWSConfigurationError) -> AWSConfiguration {
        let profile = profileName(environment: environment)
        let region: String
        let source: String
        if let value = environment.nonEmpty("AWS_REGION") {
            (region, source) = (value, "AWS_REGION")
        } else if let value = environment.nonEmpty("AWS_DEFAULT_REGION") {
            (region, source) = (value, "AWS_DEFAULT_REGION")
        } else if let value = files.config.properties(ofProfile: profile)?["region"], !value.isEmpty {
            (region, source) = (value, "profile \"\(profile)\" in \(files.configPath ?? "the config file")")
        } else {
            throw .missingRegion(profile: profile, configPath: files.configPath)
        }
        guard isRegionName(region) else { throw .invalidRegion(region, source: source) }

        var globalEndpoint: URL?
        var serviceEndpoints: [String: URL] = [:]
        // The SDKs' switch for ignoring endpoint overrides without unsetting them.
        let ignoreOverrides = environment["AWS_IGNORE_CONFIGURED_ENDPOINT_URLS"]?.lowercased() == "true"
        if !ignoreOverrides {
            // Sorted so that, of several bad overrides, the same one is always reported.
            for (variable, value) in environment.sorted(by: { $0.key < $1.key }) where !value.isEmpty {
                if variable == "AWS_ENDPOINT_URL" {
                    globalEndpoint = try endpointURL(variable: variable, value: value)
                } else if variable.hasPrefix("AWS_ENDPOINT_URL_") {
                    let suffix = String(variable.dropFirst("AWS_ENDPOINT_URL_".count))
                    serviceEndpoints[suffix] = try endpointURL(variable: variable, value: value)
                }
            }
        }
        return try AWSConfiguration(
            profile: profile, region: region, globalEndpoint: globalEndpoint, serviceEndpoints: serviceEndpoints
        )
    }

    /// The endpoint for `service`: its own override, else the global one, else the public AWS endpoint.
    public func endpoint(for service: AWSService) -> URL {
        serviceEndpoints[service.environmentSuffix] ?? globalEndpoint ?? defaultEndpoint(for: service)
    }

    /// Whether `service` is sent somewhere other than its public AWS endpoint.
    public func hasEndpointOverride(for service: AWSService) -> Bool {
        serviceEndpoints[service.environmentSuffix] != nil || globalEndpoint != nil
    }

    /// The public endpoint, `https://<prefix>.<region>.amazonaws.com` (`.com.cn` in the China regions).
    public func defaultEndpoint(for service: AWSService) -> URL {
        let domain = region.hasPrefix("cn-") ? "amazonaws.com.cn" : "amazonaws.com"
        // The region is validated and service prefixes are host labels, so this parses; the fallback
        // exists only because `URL(string:)` is optional and force-unwrapping is off limits.
        return URL(string: "https://\(service.endpointPrefix).\(region).\(domain)")
            ?? URL(fileURLWithPath: "/")
    }

    /// A resource URL returned by `service` (e.g. an SQS queue URL) moved onto the configured endpoint.
    ///
    /// Services build such URLs from their public host even when reached through an override
    /// (moto, LocalStack), so following them verbatim would leave the override.
    public func resourceURL(_ url: URL, for service: AWSService) -> URL {
        guard hasEndpointOverride(for: service) else { return url }
        return Self.rewrite(url, onto: endpoint(for: service))
    }

    /// `url` with the scheme, host and port of `endpoint`, keeping its own path and query.
    public static func rewrite(_ url: URL, onto endpoint: URL) -> URL {
        guard var components = URLComponents(url: url, resolvingAgainstBaseURL: false),
              let target = URLComponents(url: endpoint, resolvingAgainstBaseURL: false) else { return url }
        components.scheme = target.scheme
        components.host = target.host
        components.port = target.port
        return components.url ?? url
    }

    private static func endpointURL(variable: String, value: String) throws(AWSConfigurationError) -> URL {
        guard let url = URL(string: value), let scheme = url.scheme?.lowercased(), scheme == "http" || scheme == "https",
              let host = url.host, !host.isEmpty else {
            throw .invalidEndpointURL(variable: variable, value: value)
        }
        return url
    }

    /// Region names are lower-case host labels such as `us-east-1`, `eu-central-2` or `cn-north-1`.
    private static func isRegionName(_ value: String) -> Bool {
        !value.isEmpty && value.count <= 63 && value.first != "-" && value.last != "-"
            && value.allSatisfy { $0.isASCII && ($0.isLowercase || $0.isNumber || $0 == "-") }
    }
}
