/// Configuration that is missing or unusable; each description is one line saying what to set.
public enum AWSConfigurationError: Error, Equatable, CustomStringConvertible {
    /// No region in the environment or in the profile.
    case missingRegion(profile: String, configPath: String?)
    /// A region that cannot be part of a host name.
    case invalidRegion(String, source: String)
    /// An endpoint override that is not an absolute http(s) URL.
    case invalidEndpointURL(variable: String, value: String)
    /// A shared file that exists but cannot be read.
    case unreadableFile(path: String, reason: String)

    /// One readable line naming the variable or file to fix.
    public var description: String {
        switch self {
        case .missingRegion(let profile, let configPath):
            let file = configPath ?? "~/.aws/config"
            return "No AWS region configured: set AWS_REGION (for example AWS_REGION=us-east-1) "
                + "or add `region = …` to profile \"\(profile)\" in \(file)"
        case .invalidRegion(let region, let source):
            return "AWS region \"\(region)\" from \(source) is not a region name like us-east-1"
        case .invalidEndpointURL(let variable, let value):
            return "\(variable)=\"\(value)\" is not an absolute http(s) URL such as http://localhost:4566"
        case .unreadableFile(let path, let reason):
            return "cannot read AWS shared file \(path): \(reason)"
        }
    }
}
