import Logging
import OrderFlowCore

/// Writes every log record as one JSON line: `time` (UTC, milliseconds), `level`, `message`, `logger`, `request_id`
/// and `trace_id` (null when the line belongs to no request or trace), then the record's own metadata.
///
/// `trace_id` comes from `trace_id` metadata, or is read out of `traceparent` metadata (the workers log the
/// traceparent an order's event carries), so one order's path through API, relay and workers shares one trace id.
public struct JSONLogHandler: LogHandler {
    public var metadata: Logger.Metadata = [:]
    public var metadataProvider: Logger.MetadataProvider?
    public var logLevel: Logger.Level = .info
    let label: String
    let sink: LogSink
    let clock: any WallClock

    public init(label: String, sink: LogSink, clock: any WallClock = SystemClock(), metadataProvider: Logger.MetadataProvider? = nil) {
        self.label = label
        self.sink = sink
        self.clock = clock
        self.metadataProvider = metadataProvider
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var merged = metadata
        if let provided = metadataProvider?.get() { merged.merge(provided) { $1 } }
        if let own = event.metadata { merged.merge(own) { $1 } }
        sink.write(line: Self.line(time: clock.now(), level: event.level, message: event.message.description, label: label,
                                   error: event.error, metadata: merged))
    }

    /// One record as JSON bytes, fixed fields first, metadata keys sorted.
    public static func line(time: Timestamp, level: Logger.Level, message: String, label: String, error: (any Error)?,
                     metadata: Logger.Metadata) -> [UInt8] {
        var rest = metadata
        let requestId = rest.removeValue(forKey: "request_id").map { "\($0)" }
        let traceparent = rest["traceparent"].map { "\($0)" }
        let traceId = rest.removeValue(forKey: "trace_id").map { "\($0)" } ?? traceparent.flatMap(TraceContext.traceId(of:))
        var members = [
            JSONMember(key: "time", value: .string(time.iso8601)),
            JSONMember(key: "level", value: .string(level.rawValue)),
            JSONMember(key: "message", value: .string(message)),
            JSONMember(key: "logger", value: .string(label)),
            JSONMember(key: "request_id", value: .string(orNull: requestId)),
            JSONMember(key: "trace_id", value: .string(orNull: traceId)),
        ]
        // The error given to the log call, else the one in the metadata (most call sites put it there).
        if let error {
            members.append(JSONMember(key: "error", value: .string("\(error)")))
        } else if let error = rest["error"] {
            members.append(JSONMember(key: "error", value: json(error)))
        }
        for key in rest.keys.sorted() where !["time", "level", "message", "logger", "error"].contains(key) {
            members.append(JSONMember(key: key, value: json(rest[key]!)))
        }
        return Array(JSONValue.object(members).serialized().utf8)
    }

    static func json(_ value: Logger.Metadata.Value) -> JSONValue {
        switch value {
        case .string(let text): .string(text)
        case .stringConvertible(let convertible): .string(convertible.description)
        case .array(let values): .array(values.map(json))
        case .dictionary(let dictionary): .object(dictionary.keys.sorted().map { JSONMember(key: $0, value: json(dictionary[$0]!)) })
        }
    }
}
