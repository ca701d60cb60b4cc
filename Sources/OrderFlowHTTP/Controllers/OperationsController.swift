import Hummingbird
import OrderFlowApp
import OrderFlowCore

/// `/health`, `/status`, `/metrics`, `/stats`, `/queues`: what operators, monitoring and load balancers look at.
struct OperationsController {
    let services: OrderFlowServices

    func addRoutes(to router: Router<AppRequestContext>) {
        router.get("/health", use: health)
        router.get("/status", use: status)
        router.get("/status/aws-requests", use: awsRequests)
        router.get("/metrics", use: metrics)
        router.get("/alarms", use: alarms)
        router.get("/audit", use: audit)
        router.get("/status/recent-orders", use: recentOrders)
        router.get("/stats", use: stats)
        router.get("/queues", use: queues)
        router.get("/queues/:name/dlq", use: deadLetters)
        router.post("/queues/:name/dlq/redrive", use: redrive)
    }

    /// Always 200 while the process serves; touches nothing, so a busy database never fails the load balancer's check.
    @Sendable func health(_ request: Request, context: AppRequestContext) async throws -> Response {
        Response(status: .ok, headers: [.contentType: "text/plain; charset=utf-8"], body: .init(byteBuffer: ByteBuffer(string: "OK")))
    }

    @Sendable func status(_ request: Request, context: AppRequestContext) async throws -> Response {
        .json(await services.status.report())
    }

    /// Every metric in the Prometheus text format; queue, outbox, stream and process values are sampled now.
    @Sendable func metrics(_ request: Request, context: AppRequestContext) async throws -> Response {
        let text = await services.metrics.exposition(sampling: services.status)
        return Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                        body: .init(byteBuffer: ByteBuffer(bytes: text)))
    }

    /// The built-in alarms: state, threshold, last value, and the last state changes.
    @Sendable func alarms(_ request: Request, context: AppRequestContext) async throws -> Response {
        guard let alarms = services.alarms else { throw Problem.notFound("this process runs no alarms") }
        return .json(alarms.report())
    }

    /// The orders this process accepted most recently, newest first (the dashboard's list; process-local).
    @Sendable func recentOrders(_ request: Request, context: AppRequestContext) async throws -> Response {
        .json(.object(["orders": .array(services.orders.recentlyAccepted(limit: 20).map(\.json))]))
    }

    /// The audit trail, oldest first: `after` (a sequence number, for paging), `limit` (1–1000), `principal`, `route`.
    @Sendable func audit(_ request: Request, context: AppRequestContext) async throws -> Response {
        guard let trail = services.audit else { throw Problem.notFound("this process keeps no audit trail") }
        let parameters = request.uri.queryParameters
        var after: Int64 = 0
        if let text = parameters.get("after") {
            guard let value = Int64(text), value >= 0 else { throw Problem.invalidField("after", "must be a sequence number") }
            after = value
        }
        var limit = 100
        if let text = parameters.get("limit") {
            guard let value = Int(text), (1...1000).contains(value) else { throw Problem.invalidField("limit", "must be a whole number from 1 to 1000") }
            limit = value
        }
        let entries = try await trail.entries(after: after, limit: limit, principal: parameters.get("principal"), route: parameters.get("route"))
        return .json(.object([
            "entries": .array(entries.map { entry in
                .object([
                    "sequence": .int(entry.sequence),
                    "time": .string(entry.record.time.iso8601),
                    "principal": .string(entry.record.principal),
                    "method": .string(entry.record.method),
                    "route": .string(entry.record.route),
                    "resource": .string(entry.record.resource),
                    "status": .int(Int64(entry.record.status)),
                    "sourceAddress": .string(entry.record.sourceAddress),
                    "requestId": .string(entry.record.requestId),
                    "previousHash": .string(entry.previousHash),
                    "hash": .string(entry.hash),
                ])
            }),
            "next": entries.count == limit ? .string(String(entries.last?.sequence ?? after)) : .null,
        ]))
    }

    /// The cost meter alone (no calls to the backend, so reading it costs nothing); 404 on the embedded backend.
    @Sendable func awsRequests(_ request: Request, context: AppRequestContext) async throws -> Response {
        guard let meter = services.status.costReport() else {
            throw Problem.notFound("this server runs the \(services.status.backend) backend and makes no AWS requests")
        }
        return .json(meter)
    }

    @Sendable func stats(_ request: Request, context: AppRequestContext) async throws -> Response {
        let now = services.clock.now()
        return .json(try await services.analytics.snapshot(now: now).json(now: now))
    }

    @Sendable func queues(_ request: Request, context: AppRequestContext) async throws -> Response {
        .json(.object(["queues": .array(try await services.queues.queues().map(\.json))]))
    }

    @Sendable func deadLetters(_ request: Request, context: AppRequestContext) async throws -> Response {
        let name = try await knownQueue(context)
        var limit = 100
        if let text = request.uri.queryParameters.get("limit") {
            guard let value = Int(text), (1...1000).contains(value) else { throw Problem.invalidField("limit", "must be a whole number from 1 to 1000") }
            limit = value
        }
        let letters = try await services.queues.deadLetters(of: name, limit: limit)
        return .json(.object(["queue": .string(name), "messages": .array(letters.map(\.json))]))
    }

    @Sendable func redrive(_ request: Request, context: AppRequestContext) async throws -> Response {
        let name = try await knownQueue(context)
        let moved = try await services.queues.redrive(name)
        return .json(.object(["queue": .string(name), "redriven": .int(moved)]))
    }

    func knownQueue(_ context: AppRequestContext) async throws -> String {
        let name = context.parameters.get("name") ?? ""
        guard try await services.queues.queues().contains(where: { $0.name == name }) else {
            throw Problem.notFound("queue \(name) does not exist")
        }
        return name
    }
}

extension DeadLetter {
    var json: JSONValue {
        .object([
            "messageId": .string(messageId),
            "sourceQueue": .string(sourceQueue),
            "receiveCount": .int(receiveCount),
            "lastError": .string(orNull: lastError),
            "sentAt": .string(sentAt.iso8601),
            "deadLetteredAt": .string(deadLetteredAt.iso8601),
            "body": (try? JSONParser.parse(body)) ?? .string(String(decoding: body, as: UTF8.self)),
        ])
    }
}
