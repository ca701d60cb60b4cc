import Foundation

/// Reads `ORDERFLOW_*` settings. The CLI is the only place that reads the environment (DESIGN.md).
enum Settings {
    static func value(_ option: String?, env name: String) -> String? {
        if let option { return option }
        if let value = ProcessInfo.processInfo.environment[name], !value.isEmpty { return value }
        return nil
    }
}

/// A start-up or usage problem reported as one readable line and a non-zero exit, never a stack trace.
struct UsageFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// Writes to standard error.
func printError(_ text: String) {
    FileHandle.standardError.write(Data((text + "\n").utf8))
}
