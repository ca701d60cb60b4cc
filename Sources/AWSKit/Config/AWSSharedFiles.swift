import Foundation

/// The shared config and credentials files: where they are and what they contain.
///
/// Reading is the only I/O in configuration; everything that interprets the files takes this
/// value, so tests pass file contents directly instead of touching the real home directory.
public struct AWSSharedFiles: Sendable, Equatable {
    /// Path of the config file (`AWS_CONFIG_FILE`, default `~/.aws/config`), nil without a home directory.
    public let configPath: String?
    /// Path of the credentials file (`AWS_SHARED_CREDENTIALS_FILE`, default `~/.aws/credentials`).
    public let credentialsPath: String?
    /// The parsed config file; empty when the file does not exist.
    public let config: AWSProfileFile
    /// The parsed credentials file; empty when the file does not exist.
    public let credentials: AWSProfileFile

    /// Creates the value from file texts (nil for a file that does not exist).
    public init(configPath: String?, configText: String?, credentialsPath: String?, credentialsText: String?) {
        self.configPath = configPath
        self.credentialsPath = credentialsPath
        config = AWSProfileFile(parsing: configText ?? "", kind: .config)
        credentials = AWSProfileFile(parsing: credentialsText ?? "", kind: .credentials)
    }

    /// No files at all, as on a host without `~/.aws`.
    public static let none = AWSSharedFiles(configPath: nil, configText: nil, credentialsPath: nil, credentialsText: nil)

    /// The two paths the environment selects; `~/` expands from `HOME`.
    public static func paths(environment: [String: String]) -> (config: String?, credentials: String?) {
        let home = environment["HOME"].flatMap { $0.isEmpty ? nil : $0 }
        func resolve(_ variable: String, default relative: String) -> String? {
            if let override = environment[variable], !override.isEmpty {
                guard override.hasPrefix("~/") else { return override }
                return home.map { $0 + override.dropFirst(1) }
            }
            return home.map { $0 + "/" + relative }
        }
        return (
            resolve("AWS_CONFIG_FILE", default: ".aws/config"),
            resolve("AWS_SHARED_CREDENTIALS_FILE", default: ".aws/credentials")
        )
    }

    /// Reads the files the environment selects; a missing file is simply absent, an unreadable one an error.
    public static func load(environment: [String: String]) throws(AWSConfigurationError) -> AWSSharedFiles {
        let (configPath, credentialsPath) = paths(environment: environment)
        return AWSSharedFiles(
            configPath: configPath,
            configText: try read(configPath),
            credentialsPath: credentialsPath,
            credentialsText: try read(credentialsPath)
        )
    }

    private static func read(_ path: String?) throws(AWSConfigurationError) -> String? {
        guard let path, FileManager.default.fileExists(atPath: path) else { return nil }
        do {
            return try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw .unreadableFile(path: path, reason: "\(error)")
        }
    }
}
