import Foundation

/// What a child has written to one of its pipes so far.
struct CapturedOutput: Sendable {
    var lines: [String] = []
    var partialLine: [UInt8] = []
    /// True once the pipe reached end-of-file (every writer closed it).
    var ended = false

    /// Every line, the unfinished last one included.
    var text: String {
        (lines + (partialLine.isEmpty ? [] : [String(decoding: partialLine, as: UTF8.self)])).joined(separator: "\n")
    }

    /// The lines that hold more than whitespace.
    var nonEmptyLines: [String] {
        text.split(separator: "\n").map(String.init).filter { !$0.allSatisfy(\.isWhitespace) }
    }
}

/// Reads one pipe of a child on a thread of its own, so the child never blocks on a full pipe (a busy server logs a lot),
/// and lets tests wait for a line to appear.
final class OutputCapture: Sendable {
    let name: String
    private let output = Observed(CapturedOutput())

    /// Starts reading `handle` until end-of-file.
    init(reading handle: FileHandle, name: String) {
        self.name = name
        // Our own descriptor (the pipe's FileHandle may close its one when it goes away), not inherited by later children.
        let descriptor = fcntl(handle.fileDescriptor, F_DUPFD_CLOEXEC, 0)
        let thread = Thread { [output] in
            var buffer = [UInt8](repeating: 0, count: 64 * 1024)
            while true {
                let count = buffer.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
                if count < 0 && errno == EINTR { continue }
                guard count > 0 else { break }
                let chunk = buffer[0..<count]
                output.update { captured in
                    for byte in chunk {
                        if byte == UInt8(ascii: "\n") {
                            captured.lines.append(String(decoding: captured.partialLine, as: UTF8.self))
                            captured.partialLine.removeAll(keepingCapacity: true)
                        } else {
                            captured.partialLine.append(byte)
                        }
                    }
                }
            }
            close(descriptor)
            output.update { $0.ended = true }
        }
        thread.name = "capture \(name)"
        thread.start()
    }

    /// Everything captured so far.
    var captured: CapturedOutput { output.value }

    /// The first line containing `needle`; fails when the pipe ends without one, or after `timeout`.
    func line(containing needle: String, timeout: Duration) async throws -> String {
        let captured = try await output.wait(for: "a line containing \"\(needle)\" on \(name)", timeout: timeout) { captured in
            captured.ended || captured.lines.contains { $0.contains(needle) }
        }
        guard let line = captured.lines.first(where: { $0.contains(needle) }) else {
            throw SystemTestFailure("\(name) ended without a line containing \"\(needle)\"; it held:\n\(captured.text.suffix(4000))")
        }
        return line
    }

    /// Everything the pipe carried, once it has ended (at most `timeout`).
    func untilEnd(timeout: Duration) async throws -> CapturedOutput {
        try await output.wait(for: "the end of \(name)", timeout: timeout) { $0.ended }
    }
}
