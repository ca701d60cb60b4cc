import Foundation
import OrderFlowCore
import Synchronization

/// JSON lines appended to a file through a 1 MiB buffer.
final class BufferedLines: Sendable {
    private let state: Mutex<[UInt8]>
    private let handle: FileHandle

    init(_ handle: FileHandle) {
        self.handle = handle
        state = Mutex([])
    }

    func append(_ value: JSONValue) {
        let full = state.withLock { buffer -> [UInt8]? in
            buffer.append(contentsOf: value.serialized().utf8)
            buffer.append(UInt8(ascii: "\n"))
            guard buffer.count >= 1 << 20 else { return nil }
            defer { buffer.removeAll(keepingCapacity: true) }
            return buffer
        }
        if let full { handle.write(Data(full)) }
    }

    func flush() throws {
        let rest = state.withLock { buffer -> [UInt8] in
            defer { buffer.removeAll() }
            return buffer
        }
        try handle.write(contentsOf: rest)
        try handle.synchronize()
    }
}

/// Reads a file line by line in 1 MiB chunks (bounded memory for any file size).
struct LineReader {
    private let handle: FileHandle
    private var buffer: [UInt8] = []
    private var start = 0
    private var consumed = 0
    private var ended = false

    init(_ handle: FileHandle) {
        self.handle = handle
    }

    /// The next line without its newline, and the file offset after it; nil at the end.
    mutating func next() throws -> (bytes: ArraySlice<UInt8>, offset: Int)? {
        while true {
            if let newline = buffer[start...].firstIndex(of: UInt8(ascii: "\n")) {
                let line = buffer[start..<newline]
                consumed += newline + 1 - start
                start = newline + 1
                return (line, consumed)
            }
            if ended {
                guard start < buffer.count else { return nil }
                let line = buffer[start...]
                consumed += buffer.count - start
                start = buffer.count
                return (line, consumed)
            }
            buffer.removeFirst(start)
            start = 0
            if let chunk = try handle.read(upToCount: 1 << 20), !chunk.isEmpty {
                buffer.append(contentsOf: chunk)
            } else {
                ended = true
            }
        }
    }
}

/// A progress line on stderr, only when stderr is a terminal (pipes and logs get the summary alone).
final class Progress: Sendable {
    let label: String
    let unit: String
    private let state: Mutex<(done: Int, total: Int?, lastDrawn: ContinuousClock.Instant?)>
    private let enabled = isatty(2) == 1

    init(label: String, total: Int?, unit: String = "") {
        self.label = label
        self.unit = unit
        state = Mutex((0, total, nil))
    }

    func step() { update { $0.done += 1 } }

    func advance(to done: Int) { update { $0.done = done } }

    func set(_ done: Int, total: Int) {
        update {
            $0.done = done
            $0.total = total
        }
    }

    func finish() {
        guard enabled else { return }
        draw(force: true)
        FileHandle.standardError.write(Data("\n".utf8))
    }

    private func update(_ change: (inout (done: Int, total: Int?, lastDrawn: ContinuousClock.Instant?)) -> Void) {
        state.withLock { change(&$0) }
        if enabled { draw(force: false) }
    }

    private func draw(force: Bool) {
        let text: String? = state.withLock { state in
            let now = ContinuousClock.now
            if !force, let last = state.lastDrawn, now - last < .milliseconds(200) { return nil }
            state.lastDrawn = now
            guard let total = state.total, total > 0 else { return "\r\(label) \(state.done)" }
            let percent = min(100, state.done * 100 / total)
            let filled = percent / 5
            return "\r\(label) [\(String(repeating: "#", count: filled))\(String(repeating: ".", count: 20 - filled))] \(percent)%"
        }
        if let text { FileHandle.standardError.write(Data(text.utf8)) }
    }
}
