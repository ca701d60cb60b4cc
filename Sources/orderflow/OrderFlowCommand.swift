import ArgumentParser

/// `orderflow`: the one binary of OrderFlow.
@main
struct OrderFlowCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "orderflow",
        abstract: "E-commerce order processing: API, durable events, review queue, analytics stream and upload ingestion.",
        subcommands: [
            ServeCommand.self, WorkerCommand.self, LambdaCommand.self, AWSCommand.self, StatusCommand.self, OrdersCommand.self, DLQCommand.self, SubmitCommand.self,
            UploadCommand.self, ExportCommand.self, ImportCommand.self, BackupCommand.self, LogsCommand.self, APIKeyCommand.self, AuditCommand.self, BenchCommand.self,
        ],
        defaultSubcommand: nil
    )
}
