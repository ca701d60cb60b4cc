import Hummingbird
import HummingbirdTesting
import OrderFlowCore
import Testing

@Suite("Metrics")
struct MetricsAPITests {
    @Test func countersMoveAsOrdersFlowAndGaugesFollowTheQueues() async throws {
        let t = try await TestSystem.make()
        try await t.application().test(.router) { client in
            let before = try await Exposition(client)
            #expect(before.value("orderflow_orders_accepted_total") == 0)

            for body in [#"{"OrderId":"m1","Amount":450}"#, #"{"OrderId":"m2","Amount":"300.00"}"#, #"{"OrderId":"m1","Amount":450}"#,
                         #"{"OrderId":"m1","Amount":451}"#, #"{"OrderId":"m3","Amount":-1}"#, "{"] {
                try await client.execute(uri: "/orders", method: .post, headers: jsonHeaders, body: ByteBuffer(json: body)) { _ in }
            }
            try await client.execute(uri: "/orders/m1", method: .get) { #expect($0.status == .ok) }
            try await client.execute(uri: "/orders/m1", method: .get) { #expect($0.status == .ok) }
            try await client.execute(uri: "/nowhere/at/all", method: .get) { #expect($0.status == .notFound) }

            let accepted = try await Exposition(client)
            #expect(accepted.value("orderflow_orders_accepted_total") == 2)
            #expect(accepted.value("orderflow_orders_high_value_total") == 1)
            #expect(accepted.value("orderflow_orders_replayed_total") == 1)
            #expect(accepted.value("orderflow_orders_rejected_total", ["reason": "order-conflict"]) == 1)
            #expect(accepted.value("orderflow_orders_rejected_total", ["reason": "validation-failed"]) == 1)
            #expect(accepted.value("orderflow_orders_rejected_total", ["reason": "malformed-request"]) == 1)
            #expect(accepted.value("http_requests_total", ["method": "POST", "route": "/orders", "status": "201"]) == 2)
            #expect(accepted.value("http_requests_total", ["method": "POST", "route": "/orders", "status": "409"]) == 1)
            #expect(accepted.value("http_request_duration_seconds_count", ["method": "POST", "route": "/orders"]) == 6)
            // The route label is the pattern, so two reads of one order are one series and raw paths never become labels.
            let orderReads = accepted.samples.filter { $0.name == "http_requests_total" && $0.labels["method"] == "GET" && $0.labels["route"]?.hasPrefix("/orders") == true }
            #expect(orderReads.count == 1)
            #expect(orderReads.first?.value == 2)
            #expect(orderReads.first?.labels["route"]?.contains("m1") == false)
            #expect(accepted.value("http_requests_total", ["method": "GET", "route": "NotFound", "status": "404"]) == 1)
            // Nothing relayed yet: the high-value event waits in the outbox; the embedded store appends the accepted
            // records to the stream in the order's own transaction, so the consumer is two records behind.
            #expect(accepted.value("orderflow_outbox_backlog") == 1)
            #expect(accepted.value("orderflow_queue_visible_messages", ["queue": "HighValueQueue"]) == 0)
            #expect(accepted.sum("orderflow_stream_consumer_lag_records") == 2)

            _ = try await t.system.relay.relayOnce()
            let relayed = try await Exposition(client)
            #expect(relayed.value("orderflow_outbox_backlog") == 0)
            #expect(relayed.value("orderflow_queue_visible_messages", ["queue": "HighValueQueue"]) == 1)
            _ = try await t.system.analyticsConsumer.consumeOnce()
            #expect(try await Exposition(client).sum("orderflow_stream_consumer_lag_records") == 0)

            try await client.execute(uri: "/uploads/orders/mixed.jsonl", method: .put,
                                     body: ByteBuffer(string: "{\"OrderId\":\"u1\",\"Amount\":5}\nnot an order\n")) { #expect($0.status == .ok) }
            try await client.execute(uri: "/uploads/orders/broken.json", method: .put, body: ByteBuffer(string: "not json at all")) { #expect($0.status == .ok) }
            try await t.drain()
            let drained = try await Exposition(client)
            #expect(drained.value("orderflow_queue_visible_messages", ["queue": "HighValueQueue"]) == 0)
            #expect(drained.value("orderflow_queue_in_flight_messages", ["queue": "HighValueQueue"]) == 0)
            #expect(drained.sum("orderflow_stream_consumer_lag_records") == 0)
            #expect(drained.value("orderflow_orders_accepted_total") == 3)
            #expect(drained.value("orderflow_orders_rejected_total", ["reason": "upload-invalid"]) == 2)
            // Both files had problems: their notifications are dead-lettered with the reason (the good line is kept).
            #expect(drained.value("orderflow_queue_dead_letter_messages", ["queue": "order-uploads"]) == 2)

            #expect((drained.value("process_resident_memory_bytes") ?? 0) > 1_000_000)
            #expect((drained.value("process_cpu_seconds_total") ?? 0) > 0)
            #expect(drained.value("orderflow_build_info", ["backend": "embedded"]) == 1)
            // No cost meter on the embedded backend.
            #expect(drained.samples.contains { $0.name == "orderflow_aws_requests_total" } == false)
        }
    }

    @Test func counterSamplesNeverGoBackwards() async throws {
        let t = try await TestSystem.make()
        try await t.application().test(.router) { client in
            var last = try await Exposition(client).value("process_cpu_seconds_total") ?? 0
            for round in 0..<3 {
                try await client.execute(uri: "/orders", method: .post, headers: jsonHeaders, body: ByteBuffer(json: #"{"OrderId":"c\#(round)","Amount":1}"#)) { _ in }
                let now = try #require(try await Exposition(client).value("process_cpu_seconds_total"))
                #expect(now >= last)
                last = now
            }
        }
    }
}

/// One scrape of `/metrics`, parsed: every sample line as name, labels and value.
struct Exposition {
    struct Sample {
        var name: String
        var labels: [String: String]
        var value: Double
    }

    let samples: [Sample]

    init(_ client: some TestClientProtocol) async throws {
        let (status, contentType, text) = try await client.execute(uri: "/metrics", method: .get) { ($0.status, $0.headers[.contentType], $0.text) }
        #expect(status == .ok)
        #expect(contentType?.hasPrefix("text/plain; version=0.0.4") == true)
        samples = text.split(separator: "\n").compactMap { Self.parse(String($0)) }
    }

    /// `name{a="x",b="y"} 1.5` → a sample; comments and blank lines → nil.
    static func parse(_ line: String) -> Sample? {
        guard !line.hasPrefix("#"), let space = line.lastIndex(of: " "), let value = Double(line[line.index(after: space)...]) else { return nil }
        let series = line[..<space]
        guard let brace = series.firstIndex(of: "{") else { return Sample(name: String(series), labels: [:], value: value) }
        var labels: [String: String] = [:]
        for pair in series[series.index(after: brace)..<series.index(before: series.endIndex)].split(separator: ",") {
            let parts = pair.split(separator: "=", maxSplits: 1)
            guard parts.count == 2 else { continue }
            labels[String(parts[0])] = String(parts[1].dropFirst().dropLast())
        }
        return Sample(name: String(series[..<brace]), labels: labels, value: value)
    }

    /// The value of the one series of `name` whose labels include `labels`; nil if there is none.
    func value(_ name: String, _ labels: [String: String] = [:]) -> Double? {
        samples.first { sample in sample.name == name && labels.allSatisfy { sample.labels[$0.key] == $0.value } }?.value
    }

    /// The sum over every series of `name`.
    func sum(_ name: String) -> Double {
        samples.filter { $0.name == name }.reduce(0) { $0 + $1.value }
    }
}
