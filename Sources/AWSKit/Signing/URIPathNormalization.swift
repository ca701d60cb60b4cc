/// RFC 3986 dot-segment removal plus collapsing of empty segments, as SigV4 requires for every
/// service except S3 (whose object keys may legitimately contain `.`, `..` and `//`).
enum URIPathNormalization {
    /// Returns an absolute path with `.`/`..` resolved and runs of `/` collapsed, keeping a trailing `/`.
    static func normalize(_ path: String) -> String {
        let rawSegments = path.split(separator: "/", omittingEmptySubsequences: false)
        var segments: [Substring] = []
        for segment in rawSegments {
            switch segment {
            case "", ".":
                continue
            case "..":
                _ = segments.popLast()
            default:
                segments.append(segment)
            }
        }
        guard !segments.isEmpty else { return "/" }
        // A path ending in "/", "." or ".." names a directory, so the trailing slash is kept.
        let last = rawSegments.last ?? ""
        let endsAsDirectory = last.isEmpty || last == "." || last == ".."
        return "/" + segments.joined(separator: "/") + (endsAsDirectory ? "/" : "")
    }
}
