import AWSKit
import MotoTestSupport
import OrderFlowCore
import Testing
@testable import OrderFlowAWS

/// The SQS, SNS and Kinesis adapters of the messaging ports against moto (authentication on).
@Suite("SQS, SNS and Kinesis adapters against moto")
struct MessagingAdapterTests {
    static func text(_ bytes: [UInt8]) -> String { String(decoding: bytes, as: UTF8.self) }

    @Test func topicPublishesBatchesWithAttributesIntoItsQueue() async throws {
        let moto = try MotoEnvironment.require()
        try await withClient(try moto.client()) { client in
            let resources = MotoResources(client: client)
            let queue = try await resources.queue(uniqueName("HighValueQueue"))
            let topicARN = try await resources.topic(uniqueName("HighValueOrderTopic"), deliveringTo: queue.arn)
            let topic = SNSTopic(client: client, topicARN: topicARN)
            let sqs = SQSQueue(client: client, queueURL: queue.url)

            let messages = (1...3).map { TopicMessage(body: Array(#"{"orderId":"\#($0)","note":"a&b=c ü + 1"}"#.utf8),
                                                      attributes: ["eventId": "e-\($0)", "type": "order.high_value"]) }
            try await topic.publish(messages)
            var received: [QueueMessage] = []
            for _ in 0..<5 where received.count < 3 {
                received += try await sqs.receive(maxMessages: 10, waitTime: .seconds(1), visibilityTimeout: nil)
            }
            #expect(Set(received.map { Self.text($0.body) }) == Set(messages.map { Self.text($0.body) }))
            for message in received {
                #expect(message.attributes["type"] == "order.high_value")
                #expect(message.attributes["eventId"]?.hasPrefix("e-") == true)
            }
            await #expect(throws: MessagingError.batchTooLarge(limit: 10)) {
                try await topic.publish(Array(repeating: TopicMessage(body: [0x7B, 0x7D]), count: 11))
            }
        }
    }

    @Test func queueSendReceiveVisibilityDeleteAndDepth() async throws {
        let moto = try MotoEnvironment.require()
        try await withClient(try moto.client()) { client in
            let resources = MotoResources(client: client)
            let queue = try await resources.queue(uniqueName("order-uploads"), maxReceiveCount: 5)
            let sqs = SQSQueue(client: client, queueURL: queue.url, deadLetterQueueURL: queue.deadLetterURL)

            try await sqs.send((1...10).map { OutgoingMessage(body: Array("m\($0)".utf8), attributes: ["n": "\($0)"]) })
            var first: [QueueMessage] = []
            for _ in 0..<5 where first.count < 10 {
                first += try await sqs.receive(maxMessages: 10, waitTime: .seconds(1), visibilityTimeout: .seconds(30))
            }
            #expect(first.count == 10)
            #expect(first.allSatisfy { $0.receiveCount == 1 && $0.sentAt.millisecondsSinceEpoch > 0 })
            #expect(Set(first.map { $0.attributes["n"] ?? "" }) == Set((1...10).map(String.init)))
            // In flight, none is visible.
            #expect(try await sqs.receive(maxMessages: 10, waitTime: .zero, visibilityTimeout: nil).isEmpty)
            let depth = try await sqs.depth()
            #expect(depth.visible == 0 && depth.inFlight == 10 && depth.deadLetters == 0)

            // Made visible again, a message comes back with a higher receive count.
            let retried = try #require(first.first)
            try await sqs.changeVisibility(receiptHandle: retried.receiptHandle, timeout: .zero, lastError: "transient")
            let again = try await sqs.receive(maxMessages: 1, waitTime: .seconds(1), visibilityTimeout: .seconds(30))
            #expect(again.map(\.messageId) == [retried.messageId])
            #expect(again.first?.receiveCount == 2)

            // One poison message goes to the DLQ with its reason; the rest are deleted (the stale handle is ignored).
            let poison = try #require(again.first)
            try await sqs.moveToDeadLetterQueue(poison, reason: "orders/bad.json: line 2 is not JSON")
            try await sqs.delete(receiptHandles: first.dropFirst().map(\.receiptHandle) + [retried.receiptHandle])
            let after = try await sqs.depth()
            #expect(after.visible == 0 && after.inFlight == 0 && after.deadLetters == 1)

            let dlq = SQSQueue(client: client, queueURL: try #require(queue.deadLetterURL))
            let dead = try await dlq.receive(maxMessages: 1, waitTime: .seconds(1), visibilityTimeout: nil)
            #expect(dead.first.map { Self.text($0.body) } == Self.text(poison.body))
            #expect(dead.first?.attributes[SQSQueue.lastErrorAttribute] == "orders/bad.json: line 2 is not JSON")
            #expect(dead.first?.attributes["n"] == poison.attributes["n"])
        }
    }

    @Test func queueRedrivePolicyMovesAMessageAfterMaxReceives() async throws {
        let moto = try MotoEnvironment.require()
        try await withClient(try moto.client()) { client in
            let queue = try await MotoResources(client: client).queue(uniqueName("HighValueQueue"), maxReceiveCount: 2)
            let sqs = SQSQueue(client: client, queueURL: queue.url, deadLetterQueueURL: queue.deadLetterURL)
            try await sqs.send([OutgoingMessage(body: Array("poison".utf8))])
            var receives = 0
            for _ in 0..<4 {
                let got = try await sqs.receive(maxMessages: 1, waitTime: .zero, visibilityTimeout: .zero)
                receives += got.count
            }
            #expect(receives == 2)
            #expect(try await sqs.depth().deadLetters == 1)
        }
    }

    @Test func queueRefusesBadArguments() async throws {
        let moto = try MotoEnvironment.require()
        try await withClient(try moto.client()) { client in
            let sqs = SQSQueue(client: client, queueURL: try await MotoResources(client: client).queue(uniqueName("q")).url)
            await #expect(throws: MessagingError.batchTooLarge(limit: 10)) {
                try await sqs.send(Array(repeating: OutgoingMessage(body: [0x61]), count: 11))
            }
            await #expect(throws: MessagingError.self) {
                try await sqs.receive(maxMessages: 11, waitTime: .zero, visibilityTimeout: nil)
            }
            let message = QueueMessage(messageId: "x", body: [], attributes: [:], receiptHandle: "h", receiveCount: 1,
                                       sentAt: Timestamp(millisecondsSinceEpoch: 0))
            await #expect(throws: MessagingError.invalidArgument("queue \(sqs.name) has no dead-letter queue")) {
                try await sqs.moveToDeadLetterQueue(message, reason: "r")
            }
        }
    }

    @Test func streamPutsReadsFromCheckpointsAndCountsLag() async throws {
        let moto = try MotoEnvironment.require()
        try await withClient(try moto.client()) { client in
            let name = uniqueName("OrdersStream")
            try await MotoResources(client: client).stream(name, shards: 2)
            let stream = KinesisStream(client: client, streamName: name)
            let entries = (1...20).map { StreamEntry(partitionKey: "order-\($0)", data: Array(#"{"n":\#($0)}"#.utf8)) }
            try await stream.put(entries)

            let shards = try await stream.shardIds()
            #expect(shards.count == 2)
            var all: [StreamRecord] = []
            var lag = 0
            for shard in shards {
                let records = try await stream.read(shardId: shard, after: nil, limit: 100)
                all += records
                lag += try await stream.countRecords(shardId: shard, after: nil)
                // Sequence numbers increase within a shard, and reading after the last one finds nothing.
                #expect(records.map(\.sequenceNumber) == records.map(\.sequenceNumber).sorted { StreamRecord.isSequence($1, after: $0) })
                if let last = records.last {
                    #expect(try await stream.read(shardId: shard, after: last.sequenceNumber, limit: 100).isEmpty)
                    #expect(try await stream.countRecords(shardId: shard, after: last.sequenceNumber) == 0)
                }
                if records.count > 3 {
                    let resumed = try await stream.read(shardId: shard, after: records[2].sequenceNumber, limit: 100)
                    #expect(resumed.map(\.sequenceNumber) == records.dropFirst(3).map(\.sequenceNumber))
                }
            }
            #expect(lag == 20)
            #expect(Set(all.map { Self.text($0.data) }) == Set(entries.map { Self.text($0.data) }))
            #expect(Set(all.map(\.partitionKey)) == Set(entries.map(\.partitionKey)))
            // Records are spread over the shards by partition key.
            #expect(Set(all.map(\.shardId)).count == 2)
        }
    }
}
