import Foundation
import OrderFlowCore

/// The embedded `ObjectStore`: one file per object under `<root>/<bucket>/<key>`, written atomically and flushed before
/// the put returns, then announced to the queues whose prefix matches (S3 event notifications).
public final class FileObjectStore: ObjectStore, Sendable {
    /// An S3-style notification rule: objects created under `prefix` are announced on `queue`.
    public struct NotificationRule: Sendable {
        public var prefix: String
        public var queue: any MessageQueue

        public init(prefix: String, queue: any MessageQueue) {
            self.prefix = prefix
            self.queue = queue
        }
    }

    public let bucket: String
    private let directory: URL
    private let staging: URL
    private let rules: [NotificationRule]
    private let clock: any WallClock
    private let maximumSize: Int

    public init(root: URL, bucket: String, notifications: [NotificationRule], clock: any WallClock, maximumSize: Int = 64 << 20) throws {
        self.bucket = bucket
        directory = root.appendingPathComponent(bucket, isDirectory: true)
        staging = root.appendingPathComponent(".staging", isDirectory: true)
        rules = notifications
        self.clock = clock
        self.maximumSize = maximumSize
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(at: staging, withIntermediateDirectories: true)
    }

    /// Checks a key the way a file system needs it checked: no empty, `.` or `..` segments, no NUL, at most 1024 bytes.
    static func validate(_ key: String) throws(ObjectStoreError) {
        guard !key.isEmpty, key.utf8.count <= 1024 else { throw .invalidKey("must be 1–1024 bytes") }
        guard !key.utf8.contains(0), !key.hasPrefix("/") else { throw .invalidKey("must not start with / or contain NUL") }
        for segment in key.split(separator: "/", omittingEmptySubsequences: false) {
            if segment.isEmpty || segment == "." || segment == ".." {
                throw .invalidKey("must not contain empty, '.' or '..' path segments")
            }
            if segment.hasPrefix(".staging") { throw .invalidKey("segments must not start with .staging") }
        }
    }

    public func put(key: String, bytes: [UInt8], contentType: String?) async throws -> ObjectInfo {
        try Self.validate(key)
        guard bytes.count <= maximumSize else { throw ObjectStoreError.tooLarge(limit: maximumSize) }
        let target = directory.appendingPathComponent(key)
        let parent = target.deletingLastPathComponent()
        try FileManager.default.createDirectory(at: parent, withIntermediateDirectories: true)
        let temporary = staging.appendingPathComponent(UUID().uuidString)
        // Write, flush, rename, flush the directory: after a crash the object is either whole or absent.
        try Self.writeDurably(bytes, to: temporary)
        guard rename(temporary.path, target.path) == 0 else {
            let reason = String(cString: strerror(errno))
            try? FileManager.default.removeItem(at: temporary)
            throw CocoaError(.fileWriteUnknown, userInfo: [NSLocalizedDescriptionKey: "cannot store \(key): \(reason)"])
        }
        Self.syncDirectory(parent)
        let now = clock.now()
        let info = ObjectInfo(key: key, size: bytes.count, etag: "\"\(SHA256Hex.digest(bytes: bytes).prefix(32))\"", lastModified: now)
        // The put is acknowledged only after the notification is queued: a crash before that means no 200, so the client
        // retries and nothing is lost.
        for rule in rules where key.hasPrefix(rule.prefix) {
            let notification = ObjectCreatedNotification(bucket: bucket, key: key, size: bytes.count)
            try await rule.queue.send([OutgoingMessage(body: notification.encoded(time: now), attributes: ["key": key])])
        }
        return info
    }

    public func get(key: String) async throws -> [UInt8]? {
        try Self.validate(key)
        let url = directory.appendingPathComponent(key)
        guard FileManager.default.fileExists(atPath: url.path) else { return nil }
        return Array(try Data(contentsOf: url))
    }

    public func list(prefix: String, limit: Int) async throws -> [ObjectInfo] {
        guard let enumerator = FileManager.default.enumerator(at: directory, includingPropertiesForKeys: [.fileSizeKey, .contentModificationDateKey, .isRegularFileKey]) else {
            return []
        }
        let base = directory.standardizedFileURL.path + "/"
        var infos: [ObjectInfo] = []
        for case let url as URL in enumerator {
            let values = try url.resourceValues(forKeys: [.fileSizeKey, .contentModificationDateKey, .isRegularFileKey])
            guard values.isRegularFile == true else { continue }
            let path = url.standardizedFileURL.path
            guard path.hasPrefix(base) else { continue }
            let key = String(path.dropFirst(base.count))
            guard key.hasPrefix(prefix) else { continue }
            let modified = values.contentModificationDate.map { Timestamp(millisecondsSinceEpoch: Int64($0.timeIntervalSince1970 * 1000)) }
            infos.append(ObjectInfo(key: key, size: values.fileSize ?? 0, etag: "", lastModified: modified ?? clock.now()))
        }
        infos.sort { $0.key < $1.key }
        return Array(infos.prefix(limit))
    }

    static func writeDurably(_ bytes: [UInt8], to url: URL) throws {
        let fd = open(url.path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw posixError("open", url) }
        defer { close(fd) }
        var written = 0
        try bytes.withUnsafeBytes { buffer in
            guard let base = buffer.baseAddress else { return }
            while written < buffer.count {
                let result = write(fd, base + written, buffer.count - written)
                if result < 0 {
                    if errno == EINTR { continue }
                    throw posixError("write", url)
                }
                written += result
            }
        }
        guard fsync(fd) == 0 else { throw posixError("fsync", url) }
    }

    static func syncDirectory(_ url: URL) {
        let fd = open(url.path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { return }
        fsync(fd)
        close(fd)
    }

    static func posixError(_ call: String, _ url: URL) -> any Error {
        CocoaError(.fileWriteUnknown, userInfo: [NSLocalizedDescriptionKey: "\(call) \(url.lastPathComponent): \(String(cString: strerror(errno)))"])
    }
}
