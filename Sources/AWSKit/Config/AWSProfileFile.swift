/// The profiles of one shared AWS file (`~/.aws/config` or `~/.aws/credentials`), parsed from INI text.
///
/// Follows the AWS SDKs' shared-file format: `#` and `;` start comments (inline only after
/// whitespace, because secrets may contain those characters), property names are
/// case-insensitive, and indented lines under an empty property are its sub-properties.
public struct AWSProfileFile: Sendable, Equatable {
    /// Which of the two files the text came from; they name profile sections differently.
    public enum Kind: Sendable {
        /// `~/.aws/config`: `[default]` and `[profile NAME]`; other sections are not profiles.
        case config
        /// `~/.aws/credentials`: `[NAME]`, with no `profile` prefix.
        case credentials
    }

    /// Properties by profile name; names are lower-cased, sub-properties are keyed `parent.child`.
    public let profiles: [String: [String: String]]

    /// Parses `text`; malformed lines are skipped so one typo does not hide every other profile.
    public init(parsing text: String, kind: Kind) {
        var profiles: [String: [String: String]] = [:]
        var currentProfile: String?
        // The last property of the section, and whether its empty value opened a sub-property block.
        var lastProperty: (name: String, opensBlock: Bool)?

        for rawLine in text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline) {
            let line = rawLine.trimmingWhitespace()
            if line.isEmpty || line.hasPrefix("#") || line.hasPrefix(";") {
                continue
            }
            if line.hasPrefix("[") {
                lastProperty = nil
                currentProfile = Self.profileName(fromSectionLine: line, kind: kind)
                if let currentProfile, profiles[currentProfile] == nil {
                    profiles[currentProfile] = [:]
                }
                continue
            }
            guard let profile = currentProfile else { continue }
            let isIndented = rawLine.first == " " || rawLine.first == "\t"
            let property = Self.property(line)

            if isIndented, let last = lastProperty {
                // Indented lines belong to the property above: sub-properties of an empty one,
                // otherwise a continued value, which nothing here reads.
                if last.opensBlock, let property {
                    profiles[profile, default: [:]]["\(last.name).\(property.name)"] = property.value
                }
                continue
            }
            guard let property else { continue }
            profiles[profile, default: [:]][property.name] = property.value
            lastProperty = (property.name, property.value.isEmpty)
        }
        self.profiles = profiles
    }

    /// The properties of profile `name`, or nil when the file has no such profile.
    public func properties(ofProfile name: String) -> [String: String]? {
        profiles[name]
    }

    private static func property(_ line: Substring) -> (name: String, value: String)? {
        guard let equals = line.firstIndex(of: "=") else { return nil }
        let name = line[..<equals].trimmingWhitespace().lowercased()
        let value = stripInlineComment(line[line.index(after: equals)...]).trimmingWhitespace()
        return name.isEmpty ? nil : (name, String(value))
    }

    private static func profileName(fromSectionLine line: Substring, kind: Kind) -> String? {
        guard let close = line.firstIndex(of: "]") else { return nil }
        let inside = line[line.index(after: line.startIndex)..<close].trimmingWhitespace()
        guard !inside.isEmpty else { return nil }
        switch kind {
        case .credentials:
            return String(inside)
        case .config:
            if inside == "default" {
                return "default"
            }
            guard inside.hasPrefix("profile"), let afterPrefix = inside.dropFirst("profile".count).first,
                  afterPrefix == " " || afterPrefix == "\t" else { return nil }
            let name = inside.dropFirst("profile".count).trimmingWhitespace()
            return name.isEmpty ? nil : String(name)
        }
    }

    /// Drops ` # …` / ` ; …`; a `#` or `;` not preceded by whitespace is part of the value.
    private static func stripInlineComment(_ value: Substring) -> Substring {
        var previous: Character = "="
        for index in value.indices {
            let character = value[index]
            if (character == "#" || character == ";") && (previous == " " || previous == "\t") {
                return value[..<index]
            }
            previous = character
        }
        return value
    }
}

extension Substring {
    /// The substring without leading and trailing spaces and tabs.
    func trimmingWhitespace() -> Substring {
        let isBlank: (Character) -> Bool = { $0 == " " || $0 == "\t" }
        guard let first = firstIndex(where: { !isBlank($0) }), let last = lastIndex(where: { !isBlank($0) }) else {
            return self[endIndex...]
        }
        return self[first...last]
    }
}
