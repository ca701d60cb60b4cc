import OrderFlowCore

/// CloudWatch Embedded Metric Format: one JSON log line that CloudWatch Logs turns into metrics, so a Lambda function
/// publishes metrics without a PutMetricData call (the processor writes one line per invocation to stdout).
public enum EmbeddedMetricFormat {
    /// One metric of a line.
    public struct Metric: Sendable, Hashable {
        public var name: String
        public var value: Double
        /// A CloudWatch unit: `Count`, `Milliseconds`, …
        public var unit: String

        public init(_ name: String, _ value: Double, unit: String = "Count") {
            self.name = name
            self.value = value
            self.unit = unit
        }
    }

    /// The line for `metrics` under `namespace`, with `dimensions` as the one dimension set (their values are fields of
    /// the line, as the format requires).
    public static func line(namespace: String, dimensions: [(String, String)], metrics: [Metric], at time: Timestamp,
                            properties: [(String, String)] = []) -> String {
        var members = [JSONMember(key: "_aws", value: .object([
            "Timestamp": .int(time.millisecondsSinceEpoch),
            "CloudWatchMetrics": .array([.object([
                "Namespace": .string(namespace),
                "Dimensions": .array([.array(dimensions.map { .string($0.0) })]),
                "Metrics": .array(metrics.map { .object(["Name": .string($0.name), "Unit": .string($0.unit)]) }),
            ])]),
        ]))]
        for (key, value) in dimensions + properties {
            members.append(JSONMember(key: key, value: .string(value)))
        }
        for metric in metrics {
            let whole = metric.value.rounded() == metric.value && abs(metric.value) < 1e15
            members.append(JSONMember(key: metric.name, value: whole ? .int(Int64(metric.value)) : .number(String(metric.value))))
        }
        return JSONValue.object(members).serialized()
    }
}
