import ArgumentParser
import Foundation
import Hummingbird
import Logging
import Metrics
import OrderFlowApp
import OrderFlowCore
import OrderFlowEmbedded
import OrderFlowHTTP
import OrderFlowServer
import Prometheus

/// `orderflow serve`: on the embedded backend, API, outbox relay, review worker, analytics consumer and upload
/// ingestion in one process; with `--backend aws`, an API instance (API + relay) over DynamoDB, S3, SNS, SQS, Kinesis.
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Run the pipeline: everything on the embedded backend (SQLite + local object store), or an API instance with --backend aws."
    )

    @OptionGroup var options: ServeOptions

    func run() async throws {
        try await options.run(command: "serve", awsRole: options.awsRoleOverride ?? .api)
    }
}

/// `orderflow worker --backend aws`: the outbox relay, review worker, upload ingestion and analytics consumer, with
/// `/health` and `/status` on the (loopback by default) port for the instance's health check.
struct WorkerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "worker",
        abstract: "Run the AWS backend's workers (relay, review, uploads, analytics); needs --backend aws."
    )

    @OptionGroup var options: ServeOptions

    func run() async throws {
        guard options.backendName == "aws" else {
            printError("orderflow worker: the embedded backend runs its workers inside `orderflow serve`; use --backend aws (or ORDERFLOW_BACKEND=aws)")
            throw ExitCode(2)
        }
        try await options.run(command: "worker", awsRole: .worker)
    }
}

/// The options `serve` and `worker` share, and starting the system they describe.
struct ServeOptions: ParsableArguments {
    @Option(help: "embedded (SQLite + local files, the default) or aws (env ORDERFLOW_BACKEND).")
    var backend: String?

    @Option(name: .customLong("aws-role"), help: "With --backend aws: api, worker or all (serve defaults to api; all runs every worker too).")
    var awsRole: String?

    @Option(help: "Address to bind (env ORDERFLOW_HOST, default 127.0.0.1).")
    var host: String?

    @Option(help: "Port to listen on; 0 picks a free one (env ORDERFLOW_PORT, default 8080).")
    var port: String?

    @Option(name: .customLong("data-dir"), help: "Where the database and objects live (env ORDERFLOW_DATA_DIR, default ./orderflow-data).")
    var dataDirectory: String?

    @Option(name: .customLong("high-value-threshold"), help: "Orders with an amount strictly above this are high-value (env ORDERFLOW_HIGH_VALUE_THRESHOLD, default 300).")
    var highValueThreshold: String?

    @Option(name: .customLong("webhook"), help: "Also deliver high-value events to URL, signed with SECRET (URL=SECRET, repeatable; env ORDERFLOW_WEBHOOKS, comma-separated).")
    var webhooks: [String] = []

    @Option(name: .customLong("alarm-period"), help: "Seconds between alarm evaluations; CPU and 5xx alarms need 5 periods in a row (env ORDERFLOW_ALARM_PERIOD, default 60).")
    var alarmPeriod: String?

    @Option(name: .customLong("alert-webhook"), help: "Deliver alarm state changes (topic alerts) to URL, signed with SECRET (URL=SECRET, repeatable; env ORDERFLOW_ALERT_WEBHOOKS, comma-separated).")
    var alertWebhooks: [String] = []

    @Option(name: .customLong("alert-email"), help: "Mail alarm state changes to ADDRESS through --smtp-relay (repeatable; env ORDERFLOW_ALERT_EMAILS, comma-separated).")
    var alertEmails: [String] = []

    @Option(name: .customLong("smtp-relay"), help: "SMTP server for --alert-email: smtp://[user:password@]host[:port] (STARTTLS when offered, required with credentials) or smtps://… (env ORDERFLOW_SMTP_RELAY).")
    var smtpRelay: String?

    @Option(name: .customLong("alert-email-from"), help: "Sender address of alert e-mail (env ORDERFLOW_ALERT_EMAIL_FROM, default orderflow@<host name>).")
    var alertEmailFrom: String?

    @Option(name: .customLong("smtp-ca-file"), help: "PEM file of extra certificate authorities to trust for the SMTP relay (env ORDERFLOW_SMTP_CA_FILE).")
    var smtpCAFile: String?

    @Option(name: .customLong("rate-limit"), help: "Requests per second per principal (per client address without authentication); a burst of twice that. Off by default (env ORDERFLOW_RATE_LIMIT).")
    var rateLimit: String?

    @Option(name: .customLong("max-connections"), help: "Open connections at most; more wait in the listen backlog (env ORDERFLOW_MAX_CONNECTIONS, default 1024).")
    var maxConnections: String?

    @Option(name: .customLong("request-timeout"), help: "Seconds a request may take, body included, before it is cancelled and answered 408; 0: no limit (env ORDERFLOW_REQUEST_TIMEOUT, default 60).")
    var requestTimeout: String?

    @Option(name: .customLong("idle-timeout"), help: "Seconds a connection may stay silent before it is closed (env ORDERFLOW_IDLE_TIMEOUT, default 60).")
    var idleTimeout: String?

    @Option(name: .customLong("max-document-bytes"), help: "Largest document POST /upload accepts (env ORDERFLOW_MAX_DOCUMENT_BYTES, default 26214400 = 25 MiB).")
    var maxDocumentBytes: String?

    @Flag(name: .customLong("keep-documents"), help: "Also keep uploaded documents' contents in the object store (env ORDERFLOW_KEEP_DOCUMENTS=1); by default only metadata is kept.")
    var keepDocuments = false

    @Option(help: "none (loopback addresses only), apikey, jwt, or apikey,jwt (env ORDERFLOW_AUTH, default none).")
    var auth: String?

    @Option(name: .customLong("jwks-url"), help: "With --auth jwt: where the signing keys are (e.g. https://cognito-idp.REGION.amazonaws.com/POOL/.well-known/jwks.json) (env ORDERFLOW_JWKS_URL).")
    var jwksURL: String?

    @Option(name: .customLong("jwks-file"), help: "With --auth jwt: a local JWKS file instead of a URL (env ORDERFLOW_JWKS_FILE).")
    var jwksFile: String?

    @Option(name: .customLong("jwt-issuer"), help: "With --auth jwt: the required iss claim, e.g. https://cognito-idp.REGION.amazonaws.com/POOL (env ORDERFLOW_JWT_ISSUER).")
    var jwtIssuer: String?

    @Option(name: .customLong("jwt-audience"), help: "With --auth jwt: accepted client_id/aud values, comma-separated (env ORDERFLOW_JWT_AUDIENCE).")
    var jwtAudience: String?

    @Option(name: .customLong("jwt-token-use"), help: "With --auth jwt: required token_use claim; 'any' to not check (env ORDERFLOW_JWT_TOKEN_USE, default access).")
    var jwtTokenUse: String?

    @Option(name: .customLong("log-level"), help: "trace, debug, info, notice, warning, error or critical (env ORDERFLOW_LOG_LEVEL, default info).")
    var logLevel: String?

    @Option(name: .customLong("log-file"), help: "Write the JSON log lines to this file instead of stdout; reopened on SIGHUP for logrotate (env ORDERFLOW_LOG_FILE).")
    var logFile: String?

    @Option(name: .customLong("log-format"), help: "json (one JSON object per line, the default) or text (env ORDERFLOW_LOG_FORMAT).")
    var logFormat: String?

    var backendName: String { Settings.value(backend, env: "ORDERFLOW_BACKEND") ?? "embedded" }

    var awsRoleOverride: AWSRole? { awsRole.flatMap(AWSRole.init(rawValue:)) }

    /// Serves the configured backend; `extraRoutes` (embedded only) are routes that are not the API's.
    func run(command: String, awsRole role: AWSRole,
             extraRoutes: (Router<AppRequestContext>, HTTPConfiguration) -> Void = { _, _ in }) async throws {
        do {
            switch backendName {
            case "embedded": try await serve(extraRoutes: extraRoutes)
            case "aws":
                if let awsRole, AWSRole(rawValue: awsRole) == nil {
                    throw UsageFailure("--aws-role \(awsRole) is not one of api, worker, all")
                }
                try await serveAWS(role: role)
            default: throw UsageFailure("--backend \(backendName) is not embedded or aws")
            }
        } catch let failure as UsageFailure {
            printError("orderflow \(command): \(failure)")
            throw ExitCode(2)
        }
    }

    func resolvedConfiguration() throws -> ServerConfiguration {
        var configuration = ServerConfiguration()
        let host = Settings.value(host, env: "ORDERFLOW_HOST") ?? "127.0.0.1"
        guard !host.isEmpty, !host.contains(" ") else { throw UsageFailure("--host \(host) is not an address") }
        let portText = Settings.value(port, env: "ORDERFLOW_PORT") ?? "8080"
        guard let port = Int(portText), (0...65535).contains(port) else {
            throw UsageFailure("--port \(portText) is not a port number (0–65535)")
        }
        configuration.http.host = host
        configuration.http.port = port
        configuration.dataDirectory = URL(fileURLWithPath: Settings.value(dataDirectory, env: "ORDERFLOW_DATA_DIR") ?? "orderflow-data")
        let threshold = Settings.value(highValueThreshold, env: "ORDERFLOW_HIGH_VALUE_THRESHOLD") ?? "300"
        guard let policy = HighValuePolicy(threshold: threshold) else {
            throw UsageFailure("--high-value-threshold \(threshold) is not a non-negative decimal number")
        }
        configuration.highValuePolicy = policy
        configuration.highValueWebhooks = try Self.webhooks(webhooks, env: "ORDERFLOW_WEBHOOKS", option: "--webhook")
        configuration.alertWebhooks = try Self.webhooks(alertWebhooks, env: "ORDERFLOW_ALERT_WEBHOOKS", option: "--alert-webhook")
        try resolveAlertEmail(into: &configuration)
        let periodText = Settings.value(alarmPeriod, env: "ORDERFLOW_ALARM_PERIOD") ?? "60"
        guard let period = Double(periodText), period >= 0.1, period <= 3600 else {
            throw UsageFailure("--alarm-period \(periodText) is not a number of seconds from 0.1 to 3600")
        }
        configuration.alarms.period = .milliseconds(Int64(period * 1000))
        let documentLimitText = Settings.value(maxDocumentBytes, env: "ORDERFLOW_MAX_DOCUMENT_BYTES") ?? String(25 << 20)
        guard let documentLimit = Int(documentLimitText), (0...(1 << 40)).contains(documentLimit) else {
            throw UsageFailure("--max-document-bytes \(documentLimitText) is not a number of bytes")
        }
        configuration.http.documents.maximumBytes = documentLimit
        configuration.http.documents.keepContent = keepDocuments || Settings.value(nil, env: "ORDERFLOW_KEEP_DOCUMENTS") == "1"
        if let text = Settings.value(rateLimit, env: "ORDERFLOW_RATE_LIMIT") {
            guard let rate = Double(text), rate > 0, rate <= 1_000_000 else { throw UsageFailure("--rate-limit \(text) is not a number of requests per second") }
            configuration.http.limits.rateLimit = rate
        }
        let connectionsText = Settings.value(maxConnections, env: "ORDERFLOW_MAX_CONNECTIONS") ?? "1024"
        guard let connections = Int(connectionsText), (1...1_000_000).contains(connections) else {
            throw UsageFailure("--max-connections \(connectionsText) is not a number from 1 to 1000000")
        }
        configuration.http.limits.maximumConnections = connections
        let idleText = Settings.value(idleTimeout, env: "ORDERFLOW_IDLE_TIMEOUT") ?? "60"
        guard let idle = Int(idleText), (1...86_400).contains(idle) else { throw UsageFailure("--idle-timeout \(idleText) is not a number of seconds from 1 to 86400") }
        configuration.http.limits.idleTimeout = .seconds(idle)
        let requestTimeoutText = Settings.value(requestTimeout, env: "ORDERFLOW_REQUEST_TIMEOUT") ?? "60"
        guard let requestSeconds = Double(requestTimeoutText), requestSeconds >= 0, requestSeconds <= 86_400 else {
            throw UsageFailure("--request-timeout \(requestTimeoutText) is not a number of seconds from 0 to 86400")
        }
        configuration.http.limits.requestTimeout = requestSeconds == 0 ? nil : .milliseconds(Int64(requestSeconds * 1000))
        try resolveAuthentication(into: &configuration)
        return configuration
    }

    /// `--auth` and the JWT settings; authentication off is refused unless the address is a loopback one.
    func resolveAuthentication(into configuration: inout ServerConfiguration) throws {
        let modes = Set((Settings.value(auth, env: "ORDERFLOW_AUTH") ?? "none").split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) })
        guard modes.isSubset(of: ["none", "apikey", "jwt"]), !(modes.contains("none") && modes.count > 1) else {
            throw UsageFailure("--auth \(modes.sorted().joined(separator: ",")) is not none, apikey, jwt or apikey,jwt")
        }
        if modes == ["none"] {
            let host = configuration.http.host
            guard host == "localhost" || host == "::1" || host.hasPrefix("127.") else {
                throw UsageFailure("refusing to serve \(host) without authentication: use --auth apikey and/or jwt, or bind a loopback address")
            }
            return
        }
        configuration.apiKeysEnabled = modes.contains("apikey")
        guard modes.contains("jwt") else { return }
        let source: JWTSettings.KeySource
        switch (Settings.value(jwksURL, env: "ORDERFLOW_JWKS_URL"), Settings.value(jwksFile, env: "ORDERFLOW_JWKS_FILE")) {
        case (let url?, nil):
            guard url.hasPrefix("https://") || url.hasPrefix("http://127.0.0.1") || url.hasPrefix("http://localhost") else {
                throw UsageFailure("--jwks-url \(url) must be https (plain http only on loopback)")
            }
            source = .url(url)
        case (nil, let file?): source = .file(file)
        default: throw UsageFailure("--auth jwt needs exactly one of --jwks-url and --jwks-file")
        }
        guard let issuer = Settings.value(jwtIssuer, env: "ORDERFLOW_JWT_ISSUER") else { throw UsageFailure("--auth jwt needs --jwt-issuer") }
        let audiences = Set((Settings.value(jwtAudience, env: "ORDERFLOW_JWT_AUDIENCE") ?? "").split(separator: ",").map(String.init))
        guard !audiences.isEmpty else { throw UsageFailure("--auth jwt needs --jwt-audience (the app client ids allowed)") }
        let tokenUse = Settings.value(jwtTokenUse, env: "ORDERFLOW_JWT_TOKEN_USE") ?? "access"
        configuration.jwt = JWTSettings(keys: source, issuer: issuer, audiences: audiences, tokenUse: tokenUse == "any" ? nil : tokenUse)
    }

    /// `URL=SECRET` pairs from the option (repeatable) or the environment variable (comma-separated).
    static func webhooks(_ specs: [String], env: String, option: String) throws -> [(url: String, secret: String)] {
        var hooks = specs
        if hooks.isEmpty, let value = Settings.value(nil, env: env) {
            hooks = value.split(separator: ",").map(String.init)
        }
        return try hooks.map { spec in
            guard let equals = spec.firstIndex(of: "="), equals != spec.startIndex else {
                throw UsageFailure("\(option) \(spec.split(separator: "=").first ?? "") must be URL=SECRET")
            }
            return (String(spec[..<equals]), String(spec[spec.index(after: equals)...]))
        }
    }

    /// `--alert-email`, `--smtp-relay`, `--alert-email-from` and `--smtp-ca-file`: addresses need a relay, and every
    /// mistake is one line naming the option.
    func resolveAlertEmail(into configuration: inout ServerConfiguration) throws {
        var emails = alertEmails
        if emails.isEmpty, let value = Settings.value(nil, env: "ORDERFLOW_ALERT_EMAILS") {
            emails = value.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        }
        for address in emails where !MailAddress.isValid(address) {
            throw UsageFailure("--alert-email \(address) is not an e-mail address")
        }
        let relayURL = Settings.value(smtpRelay, env: "ORDERFLOW_SMTP_RELAY")
        guard let relayURL else {
            if !emails.isEmpty { throw UsageFailure("--alert-email needs --smtp-relay (the SMTP server to send through)") }
            return
        }
        let host = ProcessInfo.processInfo.hostName
        let from = Settings.value(alertEmailFrom, env: "ORDERFLOW_ALERT_EMAIL_FROM") ?? "orderflow@\(host.contains(".") ? host : "\(host).localdomain")"
        do {
            let relay = try SMTPRelay(url: relayURL, from: from, caFile: Settings.value(smtpCAFile, env: "ORDERFLOW_SMTP_CA_FILE"))
            _ = try SMTPMailer(relay: relay)  // loads the CA file now, not at the first alarm
            configuration.smtpRelay = relay
        } catch let error as SMTPError {
            throw UsageFailure("--smtp-relay: \(error)")
        }
        configuration.alertEmails = emails
    }

    func makeLogging() throws -> LogSetup {
        let levelText = Settings.value(logLevel, env: "ORDERFLOW_LOG_LEVEL") ?? "info"
        guard let level = Logger.Level(rawValue: levelText) else { throw UsageFailure("--log-level \(levelText) is not a log level") }
        let formatText = Settings.value(logFormat, env: "ORDERFLOW_LOG_FORMAT") ?? "json"
        guard let format = LogSetup.Format(rawValue: formatText) else { throw UsageFailure("--log-format \(formatText) is not json or text") }
        return try LogSetup(level: level, format: format, file: Settings.value(logFile, env: "ORDERFLOW_LOG_FILE"))
    }

    func serve(extraRoutes: (Router<AppRequestContext>, HTTPConfiguration) -> Void) async throws {
        let configuration = try resolvedConfiguration()
        let logging = try makeLogging()
        let logger = logging.logger
        let system: EmbeddedSystem
        do {
            try FileManager.default.createDirectory(at: configuration.dataDirectory, withIntermediateDirectories: true)
            system = try await EmbeddedSystem.open(configuration, logger: logger)
        } catch let error as JWTSetupError {
            throw UsageFailure("cannot load the JWT signing keys: \(error)")
        } catch {
            throw UsageFailure("cannot open the data directory \(configuration.dataDirectory.path): \(Self.readable(error))")
        }
        Self.bootstrapMetrics(system.services.metrics)
        let host = configuration.http.host
        let app = system.application(extraRoutes: extraRoutes) { port in
            logging.announce("OrderFlow \(EmbeddedSystem.version) listening on http://\(host):\(port) (data: \(configuration.dataDirectory.path))")
        }
        let hangup = logging.reopenOnHangup()
        defer { hangup.cancel() }
        try await Self.run(app, host: host, port: configuration.http.port, logging: logging)
    }

    /// Makes the process's registry the backend of swift-metrics too, so what libraries record shows at `/metrics`.
    static func bootstrapMetrics(_ metrics: OrderFlowMetrics) {
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: metrics.registry))
    }

    /// Runs until SIGTERM/SIGINT; a failure to bind is one readable line.
    static func run(_ app: some ApplicationProtocol, host: String, port: Int, logging: LogSetup) async throws {
        do {
            try await app.runService(gracefulShutdownSignals: [.sigterm, .sigint])
        } catch {
            let text = "\(error)"
            if text.contains("bind") || text.contains("Address already in use") || text.contains("Cannot assign") || text.contains("UnknownHost") {
                throw UsageFailure("cannot listen on \(host):\(port): \(Self.shortReason(text))")
            }
            throw UsageFailure("stopped on an error: \(text)")
        }
        logging.announce("OrderFlow stopped cleanly")
    }

    /// The innermost system reason of a Foundation error ("Permission denied"), or the error's own description.
    static func readable(_ error: any Error) -> String {
        let nsError = error as NSError
        if let underlying = nsError.userInfo[NSUnderlyingErrorKey] as? any Error {
            let inner = underlying as NSError
            if inner.domain == NSPOSIXErrorDomain { return String(cString: strerror(Int32(inner.code))) }
        }
        if !nsError.localizedDescription.isEmpty && nsError.domain == NSCocoaErrorDomain { return nsError.localizedDescription }
        if nsError.domain == NSPOSIXErrorDomain { return String(cString: strerror(Int32(nsError.code))) }
        return "\(error)"
    }

    /// The reason a bind failed, without NIO's call details.
    static func shortReason(_ text: String) -> String {
        for reason in ["Address already in use", "Cannot assign requested address", "Permission denied", "Name or service not known"]
            where text.contains(reason) {
            return reason
        }
        return text
    }
}
