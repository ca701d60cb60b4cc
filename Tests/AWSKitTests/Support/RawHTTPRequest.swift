import AWSKit

/// A request parsed from the raw HTTP text of a test-suite `request.txt`.
///
/// The suite's files are not strictly valid HTTP (spaces and raw UTF-8 in the target), so the
/// request line is split at its first and last space rather than by a general-purpose parser.
struct RawHTTPRequest: Equatable {
    var method: String
    var path: String
    var query: [SigV4Request.QueryParameter]
    var headers: [SigV4Request.Header]
    var body: [UInt8]

    enum ParseError: Error, CustomStringConvertible {
        case malformedRequestLine(String)
        case malformedHeaderLine(String)
        case continuationWithoutHeader(String)

        var description: String {
            switch self {
            case .malformedRequestLine(let line): return "request line is not `METHOD target HTTP/x`: \(line)"
            case .malformedHeaderLine(let line): return "header line has no colon: \(line)"
            case .continuationWithoutHeader(let line): return "folded header line before any header: \(line)"
            }
        }
    }

    /// Parses the text; header values keep their folded line breaks so the signer is what folds them.
    static func parse(_ text: String) throws -> RawHTTPRequest {
        let normalized = text.replacingOccurrences(of: "\r\n", with: "\n")
        let head: Substring
        let body: Substring
        if let blank = normalized.range(of: "\n\n") {
            head = normalized[..<blank.lowerBound]
            body = normalized[blank.upperBound...]
        } else {
            head = normalized[...]
            body = ""
        }
        var lines = head.split(separator: "\n", omittingEmptySubsequences: false)
        guard !lines.isEmpty else { throw ParseError.malformedRequestLine("") }
        let requestLine = lines.removeFirst()
        guard let firstSpace = requestLine.firstIndex(of: " "),
              let lastSpace = requestLine.lastIndex(of: " "), firstSpace < lastSpace else {
            throw ParseError.malformedRequestLine(String(requestLine))
        }
        let method = String(requestLine[..<firstSpace])
        let target = requestLine[requestLine.index(after: firstSpace)..<lastSpace]

        var headers: [SigV4Request.Header] = []
        // A request without a body may still end in one newline, which leaves an empty last line.
        for line in lines where !line.isEmpty {
            if line.first == " " || line.first == "\t" {
                guard !headers.isEmpty else { throw ParseError.continuationWithoutHeader(String(line)) }
                headers[headers.count - 1].value += "\n" + line
            } else {
                guard let colon = line.firstIndex(of: ":") else { throw ParseError.malformedHeaderLine(String(line)) }
                headers.append(SigV4Request.Header(String(line[..<colon]), String(line[line.index(after: colon)...])))
            }
        }

        let (path, query) = splitTarget(target)
        return RawHTTPRequest(method: method, path: path, query: query, headers: headers, body: Array(body.utf8))
    }

    /// Splits a request target into its raw path and decoded query parameters.
    static func splitTarget(_ target: Substring) -> (path: String, query: [SigV4Request.QueryParameter]) {
        guard let questionMark = target.firstIndex(of: "?") else { return (String(target), []) }
        let path = String(target[..<questionMark])
        let queryText = target[target.index(after: questionMark)...]
        let query = queryText.split(separator: "&").map { pair -> SigV4Request.QueryParameter in
            if let equals = pair.firstIndex(of: "=") {
                return SigV4Request.QueryParameter(
                    AWSURIEncoding.decode(String(pair[..<equals])),
                    AWSURIEncoding.decode(String(pair[pair.index(after: equals)...]))
                )
            }
            return SigV4Request.QueryParameter(AWSURIEncoding.decode(String(pair)))
        }
        return (path, query)
    }
}
