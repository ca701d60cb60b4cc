import Foundation
import OrderFlowCore
@testable import OrderFlowEmbedded
import Synchronization
import Testing

@Suite("SQLiteQueue")
struct MessagingQueueTests {
    private func message(_ text: String, _ attributes: [String: String] = [:]) -> OutgoingMessage {
        OutgoingMessage(body: Array(text.utf8), attributes: attributes)
    }

    @Test func sendReceiveDelete() async throws {
        let fixture = try MessagingFixture()
        try await fixture.messaging.ensureQueue(name: "orders")
        let queue = fixture.messaging.queue(named: "orders")
        try await queue.send([message("a", ["eventId": "e-1"]), message("b"), message("c")])

        let received = try await queue.receive(maxMessages: 10, waitTime: .zero, visibilityTimeout: nil)
        #expect(received.count == 3)
        #expect(Set(received.map { String(decoding: $0.body, as: UTF8.self) }) == ["a", "b", "c"])
        #expect(received.allSatisfy { $0.receiveCount == 1 })
        #expect(Set(received.map(\.receiptHandle)).count == 3)
        #expect(received.first { $0.body == Array("a".utf8) }?.attributes == ["eventId": "e-1"])
        #expect(received.allSatisfy { $0.sentAt == fixture.clock.now() })

        var depth = try await queue.depth()
        #expect(depth == QueueDepth(visible: 0, inFlight: 3, deadLetters: 0, oldestAgeMilliseconds: 0))

        try await queue.delete(receiptHandles: received.map(\.receiptHandle))
        depth = try await queue.depth()
        #expect(depth == QueueDepth(visible: 0, inFlight: 0, deadLetters: 0, oldestAgeMilliseconds: nil))
        #expect(try await queue.receive(maxMessages: 10, waitTime: .zero, visibilityTimeout: nil).isEmpty)
    }

    @Test func receiveTakesAtMostMaxMessages() async throws {
        let fixture = try MessagingFixture()
        try await fixture.messaging.ensureQueue(name: "orders")
        let queue = fixture.messaging.queue(named: "orders")
        try await queue.send((0..<5).map { message("m\($0)") })
        let first = try await queue.receive(maxMessages: 2, waitTime: .zero, visibilityTimeout: nil)
        let second = try await queue.receive(maxMessages: 10, waitTime: .zero, visibilityTimeout: nil)
        #expect(first.count == 2)
        #expect(second.count == 3)
        #expect(Set(first.map(\.messageId)).isDisjoint(with: second.map(\.messageId)))
    }

    @Test func batchLimitsAreEnforced() async throws {
        let fixture = try MessagingFixture()
        try await fixture.messaging.ensureQueue(name: "orders")
        let queue = fixture.messaging.queue(named: "orders")
        await #expect(throws: MessagingError.batchTooLarge(limit: 10)) {
            try await queue.send((0..<11).map { message("m\($0)") })
        }
        await #expect(throws: MessagingError.batchTooLarge(limit: 10)) {
            try await queue.delete(receiptHandles: (0..<11).map { "h\($0)" })
        }
        for maxMessages in [0, 11] {
            await #expect(throws: MessagingError.self) {
                try await queue.receive(maxMessages: maxMessages, waitTime: .zero, visibilityTimeout: nil)
            }
        }
        await #expect(throws: MessagingError.self) {
            try await queue.receive(maxMessages: 1, waitTime: .seconds(21), visibilityTimeout: nil)
        }
        await #expect(throws: MessagingError.self) {
            try await queue.send([OutgoingMessage(body: [UInt8](repeating: 0x41, count: 262_145))])
        }
        // Nothing of the rejected batch was stored.
        #expect(try await queue.depth().visible == 0)
        try await queue.send((0..<10).map { message("m\($0)") })
        #expect(try await queue.depth().visible == 10)
    }

    @Test func unknownQueueIsReported() async throws {
        let fixture = try MessagingFixture()
        let queue = fixture.messaging.queue(named: "missing")
        await #expect(throws: MessagingError.unknownQueue("missing")) {
            try await queue.send([message("x")])
        }
        await #expect(throws: MessagingError.unknownQueue("missing")) {
            try await queue.receive(maxMessages: 1, waitTime: .zero, visibilityTimeout: nil)
        }
        await #expect(throws: MessagingError.self) {
            try await fixture.messaging.ensureQueue(name: "bad name!")
        }
    }

    @Test func visibilityTimeoutExpiresAndRedeliversWithNewHandle() async throws {
        let fixture = try MessagingFixture()
        let clock = try fixture.manualClock
        try await fixture.messaging.ensureQueue(name: "orders", visibilityTimeout: .seconds(30))
        let queue = fixture.messaging.queue(named: "orders")
        try await queue.send([message("work")])

        let first = try #require(try await queue.receive(maxMessages: 1, waitTime: .zero, visibilityTimeout: nil).first)
        #expect(first.receiveCount == 1)
        clock.advance(milliseconds: 29_999)
        #expect(try await queue.receive(maxMessages: 1, waitTime: .zero, visibilityTimeout: nil).isEmpty)
        clock.advance(milliseconds: 1)

        let second = try #require(try await queue.receive(maxMessages: 1, waitTime: .zero, visibilityTimeout: .seconds(5)).first)
        #expect(second.messageId == first.messageId)
        #expect(second.receiveCount == 2)
        #expect(second.receiptHandle != first.receiptHandle)
        #expect(second.body == first.body)

        // The per-receive visibility timeout applies instead of the queue's.
        clock.advance(milliseconds: 5_000)
        let third = try #require(try await queue.receive(maxMessages: 1, waitTime: .zero, visibilityTimeout: nil).first)
        #expect(third.receiveCount == 3)
    }

    @Test func staleReceiptHandleIsIgnored() async throws {
        let fixture = try MessagingFixture()
        let clock = try fixture.manualClock
        try await fixture.messaging.ensureQueue(name: "orders", visibilityTimeout: .seconds(10))
        let queue = fixture.messaging.queue(named: "orders")
        try await queue.send([message("work")])
        let first = try #require(try await queue.receive(maxMessages: 1, waitTime: .zero, visibilityTimeout: nil).first)
        clock.advance(milliseconds: 10_000)
        let second = try #require(try await queue.receive(maxMessages: 1, waitTime: .zero, visibilityTimeout: nil).first)

        try await queue.delete(receiptHandles: [first.receiptHandle, "never-issued"])
        try await queue.changeVisibility(receiptHandle: first.receiptHandle, timeout: .zero, lastError: "stale")
        var depth = try await queue.depth()
        #expect(depth.inFlight == 1)
        #expect(depth.visible == 0)

        try await queue.delete(receiptHandles: [second.receiptHandle])
        depth = try await queue.depth()
        #expect(depth.inFlight == 0)
        #expect(depth.visible == 0)
    }

    @Test func changeVisibilityZeroMakesMessageVisibleNow() async throws {
        let fixture = try MessagingFixture()
        try await fixture.messaging.ensureQueue(name: "orders")
        let queue = fixture.messaging.queue(named: "orders")
        try await queue.send([message("work")])
        let first = try #require(try await queue.receive(maxMessages: 1, waitTime: .zero, visibilityTimeout: nil).first)
        try await queue.changeVisibility(receiptHandle: first.receiptHandle, timeout: .zero, lastError: "db locked")
        let again = try #require(try await queue.receive(maxMessages: 1, waitTime: .zero, visibilityTimeout: nil).first)
        #expect(again.messageId == first.messageId)
        #expect(again.receiveCount == 2)

        // A longer timeout hides it again until it passes.
        try await queue.changeVisibility(receiptHandle: again.receiptHandle, timeout: .seconds(60), lastError: nil)
        #expect(try await queue.receive(maxMessages: 1, waitTime: .zero, visibilityTimeout: nil).isEmpty)
        try fixture.manualClock.advance(milliseconds: 60_000)
        #expect(try await queue.receive(maxMessages: 1, waitTime: .zero, visibilityTimeout: nil).count == 1)
    }

    @Test func messageMovesToDeadLetterQueueAfterMaxReceiveCount() async throws {
        let fixture = try MessagingFixture()
        try await fixture.messaging.ensureQueue(name: "orders", maxReceiveCount: 3)
        let queue = fixture.messaging.queue(named: "orders")
        try await queue.send([message("poison", ["eventId": "e-9"]), message("fine")])

        for attempt in 1...3 {
            let received = try await queue.receive(maxMessages: 10, waitTime: .zero, visibilityTimeout: nil)
            let poison = try #require(received.first { $0.body == Array("poison".utf8) })
            #expect(poison.receiveCount == attempt)
            try await queue.changeVisibility(receiptHandle: poison.receiptHandle, timeout: .zero, lastError: "boom \(attempt)")
            if let fine = received.first(where: { $0.body == Array("fine".utf8) }) {
                try await queue.delete(receiptHandles: [fine.receiptHandle])
            }
        }
        // The fourth receive would exceed maxReceiveCount: the message goes to the DLQ instead.
        #expect(try await queue.receive(maxMessages: 10, waitTime: .zero, visibilityTimeout: nil).isEmpty)
        let depth = try await queue.depth()
        #expect(depth.visible == 0)
        #expect(depth.inFlight == 0)
        #expect(depth.deadLetters == 1)

        let deadLetters = try await fixture.messaging.deadLetters(of: "orders", limit: 10)
        let deadLetter = try #require(deadLetters.first)
        #expect(deadLetters.count == 1)
        #expect(deadLetter.body == Array("poison".utf8))
        #expect(deadLetter.sourceQueue == "orders")
        #expect(deadLetter.receiveCount == 3)
        #expect(deadLetter.lastError == "boom 3")
        #expect(deadLetter.deadLetteredAt == fixture.clock.now())
        #expect(try await fixture.messaging.queue(named: "orders-dlq").depth().visible == 1)
        #expect(fixture.logs.all.contains { $0.message == "message moved to dead-letter queue" && $0.metadata["lastError"] == "boom 3" })

        let queues = try await fixture.messaging.queues()
        #expect(queues.map(\.name) == ["orders"])
        #expect(queues.first?.deadLetterQueue == "orders-dlq")
        #expect(queues.first?.maxReceiveCount == 3)
        #expect(queues.first?.visibilityTimeoutSeconds == 30)
        #expect(queues.first?.depth.deadLetters == 1)
    }

    @Test func redriveMovesDeadLettersBackWithFreshReceiveCount() async throws {
        let fixture = try MessagingFixture()
        try await fixture.messaging.ensureQueue(name: "orders", maxReceiveCount: 1, deadLetterQueue: "orders-poison")
        let queue = fixture.messaging.queue(named: "orders")
        try await queue.send([message("one"), message("two")])
        let received = try await queue.receive(maxMessages: 10, waitTime: .zero, visibilityTimeout: nil)
        for item in received {
            try await queue.changeVisibility(receiptHandle: item.receiptHandle, timeout: .zero, lastError: "failed")
        }
        #expect(try await queue.receive(maxMessages: 10, waitTime: .zero, visibilityTimeout: nil).isEmpty)
        #expect(try await fixture.messaging.deadLetters(of: "orders", limit: 10).count == 2)
        #expect(try await fixture.messaging.queue(named: "orders-poison").depth().visible == 2)

        #expect(try await fixture.messaging.redrive("orders") == 2)
        #expect(try await fixture.messaging.deadLetters(of: "orders", limit: 10).isEmpty)
        #expect(try await fixture.messaging.redrive("orders") == 0)

        let again = try await queue.receive(maxMessages: 10, waitTime: .zero, visibilityTimeout: nil)
        #expect(Set(again.map(\.messageId)) == Set(received.map(\.messageId)))
        #expect(again.allSatisfy { $0.receiveCount == 1 })
    }

    @Test func ensureQueueIsIdempotentAndUpdatesSettings() async throws {
        let fixture = try MessagingFixture()
        try await fixture.messaging.ensureQueue(name: "orders")
        try await fixture.messaging.queue(named: "orders").send([message("kept")])
        try await fixture.messaging.ensureQueue(name: "orders", visibilityTimeout: .seconds(90), maxReceiveCount: 7)
        let queues = try await fixture.messaging.queues()
        #expect(queues.count == 1)
        #expect(queues.first?.visibilityTimeoutSeconds == 90)
        #expect(queues.first?.maxReceiveCount == 7)
        #expect(queues.first?.depth.visible == 1)
    }

    @Test func longPollWakesOnSend() async throws {
        let fixture = try MessagingFixture(clock: SystemClock())
        try await fixture.messaging.ensureQueue(name: "orders")
        let queue = fixture.messaging.queue(named: "orders")
        let receiver = Task {
            try await queue.receive(maxMessages: 1, waitTime: .seconds(20), visibilityTimeout: nil)
        }
        // Only send once the receiver is blocked in its wait, so the test shows the send waking it.
        try await eventually { fixture.messaging.context.signals.waiting(on: .queue("orders")) == 1 }
        let sentAt = ContinuousClock.now
        try await queue.send([message("wake up")])
        let received = try await receiver.value
        let elapsed = ContinuousClock.now - sentAt
        #expect(received.map(\.body) == [Array("wake up".utf8)])
        #expect(elapsed < .seconds(5))
    }

    @Test func longPollWakesWhenVisibilityTimeoutEnds() async throws {
        let fixture = try MessagingFixture(clock: SystemClock())
        try await fixture.messaging.ensureQueue(name: "orders")
        let queue = fixture.messaging.queue(named: "orders")
        try await queue.send([message("retry me")])
        let first = try await queue.receive(maxMessages: 1, waitTime: .zero, visibilityTimeout: .milliseconds(300))
        #expect(first.count == 1)
        let started = ContinuousClock.now
        let again = try await queue.receive(maxMessages: 1, waitTime: .seconds(20), visibilityTimeout: nil)
        let elapsed = ContinuousClock.now - started
        #expect(again.first?.receiveCount == 2)
        #expect(elapsed < .seconds(5))
    }

    @Test func longPollReturnsEmptyAfterWaitTime() async throws {
        let fixture = try MessagingFixture(clock: SystemClock())
        try await fixture.messaging.ensureQueue(name: "orders")
        let started = ContinuousClock.now
        let received = try await fixture.messaging.queue(named: "orders").receive(
            maxMessages: 1, waitTime: .milliseconds(200), visibilityTimeout: nil)
        #expect(received.isEmpty)
        #expect(ContinuousClock.now - started >= .milliseconds(200))
    }

    @Test func concurrentReceiversNeverGetTheSameMessage() async throws {
        let fixture = try MessagingFixture()
        try await fixture.messaging.ensureQueue(name: "orders")
        let queue = fixture.messaging.queue(named: "orders")
        for batch in 0..<20 {
            try await queue.send((0..<10).map { message("m\(batch * 10 + $0)") })
        }
        let bodies = try await withThrowingTaskGroup(of: [String].self) { group in
            for _ in 0..<4 {
                group.addTask {
                    var mine: [String] = []
                    while true {
                        let received = try await queue.receive(maxMessages: 10, waitTime: .zero, visibilityTimeout: nil)
                        if received.isEmpty { return mine }
                        mine += received.map { String(decoding: $0.body, as: UTF8.self) }
                        try await queue.delete(receiptHandles: received.map(\.receiptHandle))
                    }
                }
            }
            var all: [String] = []
            for try await mine in group { all += mine }
            return all
        }
        #expect(bodies.count == 200)
        #expect(Set(bodies) == Set((0..<200).map { "m\($0)" }))
        #expect(try await queue.depth() == QueueDepth(visible: 0, inFlight: 0, deadLetters: 0, oldestAgeMilliseconds: nil))
    }
}
