import OrderFlowCore

/// The JSON log lines of a server's output, parsed; lines that are not JSON objects are kept apart (there should be
/// none: the log is JSON lines).
struct LogRecords {
    let records: [JSONValue]
    let notJSON: [String]

    init(_ text: String) {
        var records: [JSONValue] = [], notJSON: [String] = []
        for line in text.split(separator: "\n", omittingEmptySubsequences: true) {
            if let json = try? JSONParser.parse(Array(line.utf8)), json["message"]?.stringValue != nil {
                records.append(json)
            } else {
                notJSON.append(String(line))
            }
        }
        self.records = records
        self.notJSON = notJSON
    }

    /// Records at warning level or above.
    var problems: [JSONValue] {
        records.filter { ["warning", "error", "critical"].contains($0["level"]?.stringValue ?? "") }
    }

    func with(message: String) -> [JSONValue] {
        records.filter { $0["message"]?.stringValue == message }
    }
}
