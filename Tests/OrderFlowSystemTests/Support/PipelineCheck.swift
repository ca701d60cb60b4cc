import OrderFlowCore
import Testing

/// The end-to-end checks of DESIGN.md's guarantees after a load: acknowledged means durable, exactly-once effects
/// (one review case per high-value order, each order counted once), no lost events.
enum PipelineCheck {
    /// Waits until every event has been relayed, every queue message handled and every stream record counted: outbox
    /// backlog 0, consumer lag 0 and no visible or in-flight message in any queue, seen in two reports in a row (one
    /// report reads its parts one after another, so a single one could see the relay between them). Returns the last report.
    @discardableResult
    static func waitUntilSettled(_ api: OrderFlowAPI, timeout: Duration = .seconds(60)) async throws -> JSONValue {
        var last: JSONValue = .null
        var settledBefore = false
        return try await eventually("the pipeline to settle (outbox backlog 0, stream lag 0, queues drained)", timeout: timeout) {
            last = try await api.json("/status")
            let settled = isSettled(last)
            defer { settledBefore = settled }
            return settled && settledBefore ? last : nil
        } lastSeen: {
            "last /status: \(last.serialized())"
        }
    }

    static func isSettled(_ status: JSONValue) -> Bool {
        guard status["outboxBacklog"]?.int64Value == 0, status["streamConsumerLag"]?["total"]?.int64Value == 0,
              let queues = status["queues"]?.arrayValue, !queues.isEmpty else { return false }
        return queues.allSatisfy { $0["visible"]?.int64Value == 0 && $0["inFlight"]?.int64Value == 0 }
    }

    /// Checks what the server holds against what was submitted, once the pipeline has settled, and returns the ids it
    /// holds. Every acknowledged order must be stored with its amount; nothing else but submitted orders may be stored,
    /// each once; every stored high-value order has exactly one open review case and no other order has one; `/stats`
    /// counts each stored order exactly once.
    @discardableResult
    static func verify(_ api: OrderFlowAPI, submitted: [TestOrder], acknowledged: Set<String>) async throws -> Set<String> {
        let byID = Dictionary(uniqueKeysWithValues: submitted.map { ($0.id, $0) })

        // The listing, page by page: each stored order once, only submitted ones, every acknowledged one.
        let listed = try await api.all("/orders", key: "orders", pageSize: 500)
        var listedIDs: [String: Int] = [:]
        var wrongAmounts: [String] = []
        for order in listed {
            guard let id = order["orderId"]?.stringValue else { continue }
            listedIDs[id, default: 0] += 1
            if let expected = byID[id], order["amountMinor"]?.int64Value != expected.amountMinor || order["highValue"]?.boolValue != expected.highValue {
                wrongAmounts.append("\(id): \(order.serialized().prefix(200))")
            }
        }
        let stored = Set(listedIDs.keys)
        let duplicated = listedIDs.filter { $0.value > 1 }.keys.sorted()
        let unknown = stored.subtracting(byID.keys).sorted()
        let missing = acknowledged.subtracting(stored).sorted()
        #expect(listed.count == stored.count, "the listing holds \(listed.count) entries for \(stored.count) orders; repeated: \(duplicated.prefix(20))")
        #expect(unknown.isEmpty, "\(unknown.count) stored orders were never submitted: \(unknown.prefix(20))")
        #expect(missing.isEmpty, "\(missing.count) acknowledged orders are missing from the listing: \(missing.prefix(20))")
        #expect(wrongAmounts.isEmpty, "\(wrongAmounts.count) listed orders differ from what was submitted: \(wrongAmounts.prefix(5))")

        // Each acknowledged order read back one by one, with its amount and, when high-value, its open review.
        let problems = try await readBack(acknowledged.sorted(), from: api, expected: byID)
        #expect(problems.isEmpty, "\(problems.count) acknowledged orders do not read back as submitted: \(problems.prefix(10))")

        // One open review case per stored high-value order, and none for any other order; small pages, so a paging
        // fault would show as a missing or repeated case.
        let reviews = try await api.all("/reviews?status=open", key: "reviews", pageSize: 50)
        var reviewCounts: [String: Int] = [:]
        for review in reviews {
            if let id = review["orderId"]?.stringValue { reviewCounts[id, default: 0] += 1 }
        }
        let highValueStored = Set(stored.filter { byID[$0]?.highValue == true })
        let withoutReview = highValueStored.subtracting(reviewCounts.keys).sorted()
        let extraReviews = Set(reviewCounts.keys).subtracting(highValueStored).sorted()
        let repeatedReviews = reviewCounts.filter { $0.value > 1 }.keys.sorted()
        #expect(withoutReview.isEmpty, "\(withoutReview.count) of \(highValueStored.count) high-value orders have no open review case: \(withoutReview.prefix(20))")
        #expect(extraReviews.isEmpty, "\(extraReviews.count) open review cases are for orders that are not stored high-value orders: \(extraReviews.prefix(20))")
        #expect(repeatedReviews.isEmpty, "\(repeatedReviews.count) orders have more than one open review case: \(repeatedReviews.prefix(20))")

        // The analytics count every stored order exactly once.
        let stats = try await api.json("/stats")
        let revenueMinor = stored.reduce(Int64(0)) { $0 + (byID[$1]?.amountMinor ?? 0) }
        #expect(stats["orders"]?.int64Value == Int64(stored.count), "/stats orders for \(stored.count) stored orders: \(stats.serialized().prefix(300))")
        #expect(stats["highValueOrders"]?.int64Value == Int64(highValueStored.count),
                "/stats highValueOrders for \(highValueStored.count) stored high-value orders: \(stats.serialized().prefix(300))")
        #expect(stats["revenue"]?["USD"]?.stringValue == TestOrders.decimal(revenueMinor), "/stats revenue: \(stats["revenue"]?.serialized() ?? "none")")

        // Nothing poisoned on the way.
        let queues = try await api.json("/queues")
        for queue in queues["queues"]?.arrayValue ?? [] {
            #expect(queue["deadLetters"]?.int64Value == 0, "dead letters after the load: \(queue.serialized())")
        }
        return stored
    }

    /// `GET /orders/{id}` for each id, eight at a time; returns one line per order that is not as expected.
    private static func readBack(_ ids: [String], from api: OrderFlowAPI, expected: [String: TestOrder]) async throws -> [String] {
        try await withThrowingTaskGroup(of: [String].self) { group in
            let lanes = 8
            for lane in 0..<lanes {
                group.addTask {
                    var problems: [String] = []
                    for id in stride(from: lane, to: ids.count, by: lanes).map({ ids[$0] }) {
                        let reply = try await api.send(.GET, "/orders/\(id)")
                        guard reply.status == 200, let order = reply.json else {
                            problems.append("\(id): HTTP \(reply.status)")
                            continue
                        }
                        guard let want = expected[id] else { continue }
                        if order["amountMinor"]?.int64Value != want.amountMinor {
                            problems.append("\(id): amountMinor \(order["amountMinor"]?.serialized() ?? "none"), submitted \(want.amountMinor)")
                        }
                        let review = order["review"]?.stringValue
                        if want.highValue ? review != "open" : review != nil {
                            problems.append("\(id): review \(review ?? "null") for highValue \(want.highValue)")
                        }
                    }
                    return problems
                }
            }
            var all: [String] = []
            for try await problems in group { all += problems }
            return all
        }
    }
}
