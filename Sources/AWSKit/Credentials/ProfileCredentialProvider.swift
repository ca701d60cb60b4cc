/// Static keys from a profile of the shared credentials file, falling back to the config file.
///
/// Only `aws_access_key_id`, `aws_secret_access_key` and `aws_session_token` are read; profiles
/// that assume roles, run a `credential_process` or use SSO are reported as not supported.
public struct ProfileCredentialProvider: AWSCredentialProvider {
    private let profile: String
    private let files: AWSSharedFiles
    private let profileIsRequired: Bool

    /// Reads `profile` from `files`; when `profileIsRequired` (it was named explicitly), its absence is an error.
    public init(profile: String, files: AWSSharedFiles, profileIsRequired: Bool = false) {
        self.profile = profile
        self.files = files
        self.profileIsRequired = profileIsRequired
    }

    /// `profile "<name>"`.
    public var name: String { "profile \"\(profile)\"" }

    /// Keys from the profile; the credentials file wins over the config file key by key, as in the AWS CLI.
    public func resolve() async throws(AWSCredentialError) -> AWSCredentialResolution {
        let fromCredentials = files.credentials.properties(ofProfile: profile)
        let fromConfig = files.config.properties(ofProfile: profile)
        let searched = [files.credentialsPath, files.configPath].compactMap { $0 }
        guard fromCredentials != nil || fromConfig != nil else {
            if profileIsRequired {
                throw .profileNotFound(profile: profile, searched: searched)
            }
            let files = searched.isEmpty ? "no shared files (HOME is not set)" : searched.joined(separator: " or ")
            return .notFound(reason: "not defined in \(files)")
        }
        let properties = (fromConfig ?? [:]).merging(fromCredentials ?? [:]) { _, credentialsValue in credentialsValue }
        let accessKeyID = properties.nonEmpty("aws_access_key_id")
        let secret = properties.nonEmpty("aws_secret_access_key")
        switch (accessKeyID, secret) {
        case let (accessKeyID?, secret?):
            return .found(AWSCredentials(
                accessKeyID: accessKeyID,
                secretAccessKey: secret,
                sessionToken: properties.nonEmpty("aws_session_token")
            ))
        case (nil, nil):
            let unsupported = ["role_arn", "credential_process", "sso_session", "sso_start_url", "web_identity_token_file"]
                .filter { properties[$0] != nil }
            if unsupported.isEmpty {
                return .notFound(reason: "has no aws_access_key_id")
            }
            return .notFound(reason: "uses \(unsupported.joined(separator: ", ")), which AWSKit does not support yet")
        case (nil, _?):
            throw .incomplete(source: name, missing: "aws_access_key_id")
        case (_?, nil):
            throw .incomplete(source: name, missing: "aws_secret_access_key")
        }
    }
}
