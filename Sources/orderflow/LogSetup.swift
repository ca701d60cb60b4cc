import Dispatch
import Foundation
import Logging
import OrderFlowApp
import OrderFlowCore

/// How `serve` and `worker` log: JSON lines (default) to stdout or to `--log-file`, or text to stderr for a terminal.
struct LogSetup {
    enum Format: String {
        case json, text
    }

    let format: Format
    /// Where JSON lines go; nil in text format.
    let sink: LogSink?
    let logger: Logger

    init(level: Logger.Level, format: Format, file: String?) throws {
        self.format = format
        switch format {
        case .json:
            let sink = try file.map { path throws -> LogSink in
                do { return try LogSink(path: path) } catch { throw UsageFailure("\(error)") }
            } ?? LogSink.standardOutput
            self.sink = sink
            // Every logger of the process writes through the same sink, including ones libraries make themselves.
            LoggingSystem.bootstrap { label in JSONLogHandler(label: label, sink: sink) }
        case .text:
            guard file == nil else { throw UsageFailure("--log-file needs --log-format json") }
            sink = nil
            LoggingSystem.bootstrap(StreamLogHandler.standardError)
        }
        var logger = Logger(label: "orderflow")
        logger.logLevel = level
        self.logger = logger
    }

    /// A line for the operator (listening, stopped): on stdout always, as a JSON record when the JSON log is stdout
    /// (so that stream stays pure JSON lines), as plain text otherwise, and as a record in the log file too.
    func announce(_ text: String) {
        if let sink {
            let record = JSONLogHandler.line(time: SystemClock().now(), level: .notice, message: text, label: "orderflow", error: nil, metadata: [:])
            sink.write(line: record)
            if sink.path == nil { return }
        }
        // Straight to the file handle so a supervising process sees it at once, even when stdout is a pipe.
        FileHandle.standardOutput.write(Data((text + "\n").utf8))
    }

    /// On SIGHUP the log file is reopened (logrotate renamed it); without a log file SIGHUP is ignored rather than
    /// ending the process. The returned source must be kept until the process stops.
    func reopenOnHangup() -> any DispatchSourceSignal {
        signal(SIGHUP, SIG_IGN)
        let source = DispatchSource.makeSignalSource(signal: SIGHUP, queue: .global())
        let sink = sink
        let logger = logger
        source.setEventHandler {
            guard let sink, sink.path != nil else { return }
            do {
                try sink.reopen()
                logger.notice("log file reopened (SIGHUP)", metadata: ["file": "\(sink.path ?? "")"])
            } catch {
                printError("orderflow: \(error); logging continues to the file already open")
            }
        }
        source.resume()
        return source
    }
}
