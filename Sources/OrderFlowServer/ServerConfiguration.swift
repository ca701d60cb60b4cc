import Foundation
import OrderFlowApp
import OrderFlowCore
import OrderFlowEmbedded
import OrderFlowHTTP

/// Everything `orderflow serve` can be told, with the seeds' defaults.
public struct ServerConfiguration: Sendable {
    public var http: HTTPConfiguration
    public var dataDirectory: URL
    public var highValuePolicy: HighValuePolicy
    public var names: ResourceNames
    /// Webhook subscriptions of the high-value topic (URL and HMAC secret).
    public var highValueWebhooks: [(url: String, secret: String)]
    public var streamShards: Int
    public var maxReceiveCount: Int
    public var visibilityTimeout: Duration
    /// The built-in alarms' thresholds and evaluation period.
    public var alarms = AlarmSettings()
    /// Webhook subscriptions of the `alerts` topic (URL and HMAC secret); alarm state changes are also logged.
    public var alertWebhooks: [(url: String, secret: String)] = []
    /// E-mail addresses that receive alarm state changes through `smtpRelay`.
    public var alertEmails: [String] = []
    /// The SMTP relay e-mail subscriptions send through.
    public var smtpRelay: SMTPRelay?
    /// API keys (stored in the data directory) for machine clients.
    public var apiKeysEnabled = false
    /// Bearer tokens checked against a JWKS (e.g. a Cognito user pool).
    public var jwt: JWTSettings?

    public init(
        http: HTTPConfiguration = HTTPConfiguration(),
        dataDirectory: URL = URL(fileURLWithPath: "orderflow-data"),
        highValuePolicy: HighValuePolicy = .standard,
        names: ResourceNames = ResourceNames(),
        highValueWebhooks: [(url: String, secret: String)] = [],
        streamShards: Int = 2,
        maxReceiveCount: Int = 5,
        visibilityTimeout: Duration = .seconds(30)
    ) {
        self.http = http
        self.dataDirectory = dataDirectory
        self.highValuePolicy = highValuePolicy
        self.names = names
        self.highValueWebhooks = highValueWebhooks
        self.streamShards = streamShards
        self.maxReceiveCount = maxReceiveCount
        self.visibilityTimeout = visibilityTimeout
    }
}

/// Names of the resources, the seeds' names by default.
public struct ResourceNames: Sendable {
    public var uploadsBucket = "myapp-uploads"
    public var uploadsPrefix = "orders/"
    public var highValueTopic = "HighValueOrderTopic"
    public var highValueQueue = "HighValueQueue"
    public var uploadsQueue = "order-uploads"
    public var ordersStream = "OrdersStream"
    /// Where alarm state changes are published (seed 000's `lab-alerts`).
    public var alertsTopic = "alerts"

    public init() {}
}
