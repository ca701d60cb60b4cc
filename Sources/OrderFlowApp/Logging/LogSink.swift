#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Synchronization

/// Where log lines go: standard output, or a file that can be reopened (after logrotate renamed it, on SIGHUP).
///
/// Every line is written whole with `write(2)` under a lock, and reopening swaps the descriptor under the same lock,
/// so no line is split, interleaved, or lost across a rotation: a line goes to the old file or to the new one.
public final class LogSink: Sendable {
    /// The file, or nil for standard output.
    public let path: String?
    private let descriptor: Mutex<Int32>

    /// Standard output.
    public static let standardOutput = LogSink(standardOutput: ())

    private init(standardOutput: Void) {
        path = nil
        descriptor = Mutex(1)
    }

    /// Appends to `path`, creating it (mode 0640) if needed.
    public init(path: String) throws(LogSinkError) {
        self.path = path
        descriptor = Mutex(try Self.open(path))
    }

    deinit {
        descriptor.withLock { if $0 > 2 { close($0) } }
    }

    /// Writes one line (a newline is added).
    public func write(line bytes: [UInt8]) {
        var line = bytes
        line.append(UInt8(ascii: "\n"))
        descriptor.withLock { fd in
            line.withUnsafeBytes { buffer in
                var offset = 0
                while offset < buffer.count {
                    let written = systemWrite(fd, buffer.baseAddress! + offset, buffer.count - offset)
                    if written < 0 {
                        if errno == EINTR { continue }
                        return  // Nowhere left to report a failing log; the line is dropped rather than blocking the caller.
                    }
                    offset += written
                }
            }
        }
    }

    /// Opens the path again and switches to it (the old file, renamed by logrotate, is closed); no-op for stdout.
    public func reopen() throws(LogSinkError) {
        guard let path else { return }
        let fresh = try Self.open(path)
        let old = descriptor.withLock { fd in
            let old = fd
            fd = fresh
            return old
        }
        close(old)
    }

    private static func open(_ path: String) throws(LogSinkError) -> Int32 {
        let fd = systemOpen(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o640)
        guard fd >= 0 else { throw LogSinkError(path: path, reason: String(cString: strerror(errno))) }
        return fd
    }
}

/// A log file that cannot be opened.
public struct LogSinkError: Error, Sendable, CustomStringConvertible {
    public let path: String
    public let reason: String

    public var description: String { "cannot open the log file \(path): \(reason)" }
}

private func systemWrite(_ fd: Int32, _ bytes: UnsafeRawPointer, _ count: Int) -> Int {
    #if canImport(Glibc)
    Glibc.write(fd, bytes, count)
    #else
    Darwin.write(fd, bytes, count)
    #endif
}

private func systemOpen(_ path: String, _ flags: Int32, _ mode: mode_t) -> Int32 {
    #if canImport(Glibc)
    Glibc.open(path, flags, mode)
    #else
    Darwin.open(path, flags, mode)
    #endif
}
