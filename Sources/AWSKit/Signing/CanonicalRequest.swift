/// The SigV4 canonical form of a request: the exact text whose hash the signature covers.
struct CanonicalRequest: Sendable {
    /// The full canonical request text.
    let text: String
    /// Lower-case signed header names joined by `;`, as they appear in `SignedHeaders`.
    let signedHeaders: String

    /// Builds the canonical request from already-prepared parts (signer-owned headers and parameters included).
    init(
        method: String,
        path: String,
        query: [SigV4Request.QueryParameter],
        headers: [SigV4Request.Header],
        payloadHash: String,
        options: SigV4Options
    ) {
        let canonicalHeaders = Self.canonicalHeaders(headers)
        signedHeaders = canonicalHeaders.map(\.name).joined(separator: ";")
        let headerLines = canonicalHeaders.map { "\($0.name):\($0.value)\n" }.joined()
        text = [
            method,
            Self.canonicalPath(path, options: options),
            Self.canonicalQuery(query),
            headerLines,
            signedHeaders,
            payloadHash,
        ].joined(separator: "\n")
    }

    /// The path line: optionally normalised, then encoded once more (non-S3) or re-encoded canonically (S3).
    static func canonicalPath(_ wirePath: String, options: SigV4Options) -> String {
        var path = wirePath.isEmpty ? "/" : wirePath
        if options.normalizePath {
            path = URIPathNormalization.normalize(path)
        }
        if options.doubleEncodePath {
            return AWSURIEncoding.encodePath(path)
        }
        // Decoding first makes `/test$file.text` and `/test%24file.text` sign the same way, as S3 does.
        return AWSURIEncoding.encodePath(AWSURIEncoding.decode(path))
    }

    /// Parameters encoded, sorted by encoded name then encoded value (byte order), joined by `&`.
    static func canonicalQuery(_ query: [SigV4Request.QueryParameter]) -> String {
        query
            .map { (name: AWSURIEncoding.encode($0.name), value: AWSURIEncoding.encode($0.value)) }
            .sorted { lhs, rhs in
                lhs.name == rhs.name ? lhs.value.utf8.lexicographicallyPrecedes(rhs.value.utf8)
                    : lhs.name.utf8.lexicographicallyPrecedes(rhs.name.utf8)
            }
            .map { "\($0.name)=\($0.value)" }
            .joined(separator: "&")
    }

    /// Header names lower-cased and sorted; repeated names joined by `,` in their original order.
    static func canonicalHeaders(_ headers: [SigV4Request.Header]) -> [(name: String, value: String)] {
        var valuesByName: [String: [String]] = [:]
        for header in headers {
            valuesByName[header.name.lowercased(), default: []].append(canonicalValue(header.value))
        }
        return valuesByName
            .map { (name: $0.key, value: $0.value.joined(separator: ",")) }
            .sorted { $0.name.utf8.lexicographicallyPrecedes($1.name.utf8) }
    }

    /// Trims the value and turns every run of whitespace (including folded line breaks) into one space.
    static func canonicalValue(_ value: String) -> String {
        value.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\r" || $0 == "\n" || $0 == "\r\n" })
            .joined(separator: " ")
    }
}
