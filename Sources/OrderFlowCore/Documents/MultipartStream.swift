/// An incremental multipart/form-data reader (RFC 7578): fed the body chunk by chunk, it reports each part's headers
/// and hands over the part's content in pieces, never holding more than the boundary's length plus one chunk.
public struct MultipartStream: Sendable {
    /// What the reader found in the bytes fed so far.
    public enum Event: Sendable, Equatable {
        /// A part begins; its header lines, lower-cased names.
        case partStart(headers: [String: String])
        /// Content of the current part.
        case content([UInt8])
        /// The current part ended.
        case partEnd
        /// The closing boundary: the body is complete.
        case end
    }

    public enum Failure: Error, Sendable, Equatable, CustomStringConvertible {
        case malformed(String)

        public var description: String {
            switch self {
            case .malformed(let reason): "the multipart body is malformed: \(reason)"
            }
        }
    }

    enum State: Sendable {
        case preamble
        case headers
        case content
        case finished
    }

    private let delimiter: [UInt8]   // "\r\n--boundary"
    private var buffer: [UInt8] = []
    private var state: State = .preamble
    private var headerBytes = 0
    static let maximumHeaderBytes = 16 * 1024

    /// The boundary from a `Content-Type: multipart/form-data; boundary=…` value; nil when there is none or it is invalid.
    public static func boundary(fromContentType value: String) -> String? {
        let parts = value.split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces) }
        guard parts.first?.lowercased() == "multipart/form-data" else { return nil }
        for parameter in parts.dropFirst() where parameter.lowercased().hasPrefix("boundary=") {
            var boundary = String(parameter.dropFirst("boundary=".count))
            if boundary.hasPrefix("\""), boundary.hasSuffix("\""), boundary.count >= 2 { boundary = String(boundary.dropFirst().dropLast()) }
            guard (1...70).contains(boundary.utf8.count) else { return nil }
            return boundary
        }
        return nil
    }

    public init(boundary: String) {
        delimiter = Array("\r\n--\(boundary)".utf8)
        // The body starts with "--boundary" (no CRLF before the first one): pretend one was there.
        buffer = [13, 10]
    }

    public var isFinished: Bool {
        if case .finished = state { return true }
        return false
    }

    /// Feeds the next chunk; returns what it completes.
    public mutating func feed(_ chunk: some Collection<UInt8>) throws(Failure) -> [Event] {
        buffer.append(contentsOf: chunk)
        var events: [Event] = []
        while true {
            switch state {
            case .finished:
                buffer.removeAll()  // the epilogue is ignored
                return events
            case .preamble:
                guard let index = find(delimiter, in: buffer) else {
                    // Keep only what could still be the start of the delimiter.
                    if buffer.count > delimiter.count { buffer.removeFirst(buffer.count - delimiter.count) }
                    return events
                }
                guard let after = try afterDelimiter(at: index) else { return events }
                if after.closing {
                    state = .finished
                    events.append(.end)
                    continue
                }
                buffer.removeFirst(after.next)
                state = .headers
                headerBytes = 0
            case .headers:
                guard let end = find([13, 10, 13, 10], in: buffer) else {
                    headerBytes += 0
                    if buffer.count > Self.maximumHeaderBytes { throw .malformed("part headers longer than \(Self.maximumHeaderBytes) bytes") }
                    return events
                }
                let text = String(decoding: buffer[..<end], as: UTF8.self)
                var headers: [String: String] = [:]
                for line in text.split(separator: "\r\n", omittingEmptySubsequences: true) {
                    guard let colon = line.firstIndex(of: ":") else { throw .malformed("a part header line without a colon") }
                    headers[line[..<colon].trimmingCharacters(in: .whitespaces).lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
                }
                buffer.removeFirst(end + 4)
                state = .content
                events.append(.partStart(headers: headers))
            case .content:
                if let index = find(delimiter, in: buffer) {
                    guard let after = try afterDelimiter(at: index) else {
                        // The delimiter is here but not what follows it: hand over the content before it, wait for more.
                        if index > 0 {
                            events.append(.content(Array(buffer[..<index])))
                            buffer.removeFirst(index)
                        }
                        return events
                    }
                    if index > 0 { events.append(.content(Array(buffer[..<index]))) }
                    events.append(.partEnd)
                    if after.closing {
                        state = .finished
                        events.append(.end)
                        continue
                    }
                    buffer.removeFirst(after.next)
                    state = .headers
                } else {
                    // Everything but a possible partial delimiter at the end is content.
                    let safe = buffer.count - (delimiter.count - 1)
                    if safe > 0 {
                        events.append(.content(Array(buffer[..<safe])))
                        buffer.removeFirst(safe)
                    }
                    return events
                }
            }
        }
    }

    /// After a delimiter at `index`: `--` closes the body, CRLF starts a part (transport padding allowed); nil when more
    /// bytes are needed to tell.
    private func afterDelimiter(at index: Int) throws(Failure) -> (closing: Bool, next: Int)? {
        var position = index + delimiter.count
        guard position + 2 <= buffer.count else { return nil }
        if buffer[position] == 45, buffer[position + 1] == 45 { return (true, position + 2) }
        while position < buffer.count, buffer[position] == 32 || buffer[position] == 9 { position += 1 }
        guard position + 2 <= buffer.count else { return nil }
        guard buffer[position] == 13, buffer[position + 1] == 10 else { throw .malformed("a boundary not followed by CRLF") }
        return (false, position + 2)
    }

    private func find(_ needle: [UInt8], in haystack: [UInt8]) -> Int? {
        guard haystack.count >= needle.count, let first = needle.first else { return nil }
        var index = 0
        let last = haystack.count - needle.count
        while index <= last {
            if haystack[index] == first {
                var match = true
                for offset in 1..<needle.count where haystack[index + offset] != needle[offset] {
                    match = false
                    break
                }
                if match { return index }
            }
            index += 1
        }
        return nil
    }
}

/// The `filename` and `name` parameters of a `Content-Disposition: form-data; name="file"; filename="…"` header.
public enum ContentDisposition {
    public static func parameter(_ name: String, in value: String) -> String? {
        for part in value.split(separator: ";").dropFirst() {
            let pair = part.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            guard pair.count == 2, pair[0].lowercased() == name else { continue }
            var text = pair[1]
            if text.hasPrefix("\""), text.hasSuffix("\""), text.count >= 2 { text = String(text.dropFirst().dropLast()) }
            return text
        }
        return nil
    }

    /// A file name safe to show and store: the last path segment (either slash), no control characters, at most 255
    /// bytes; "unnamed" when nothing is left.
    public static func sanitizedFilename(_ raw: String) -> String {
        let lastSegment = raw.split(whereSeparator: { $0 == "/" || $0 == "\\" }).last.map(String.init) ?? ""
        var cleaned = String(lastSegment.unicodeScalars.filter { $0.value >= 32 && $0.value != 127 }.map(Character.init))
            .trimmingCharacters(in: .whitespaces)
        if cleaned == "." || cleaned == ".." { cleaned = "" }
        while cleaned.utf8.count > 255 { cleaned.removeLast() }
        return cleaned.isEmpty ? "unnamed" : cleaned
    }
}
