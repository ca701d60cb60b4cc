/// An object-created notification in the S3 event format (`{"Records":[{"s3":{"bucket":{…},"object":{"key":…}}}]}`).
public struct ObjectCreatedNotification: Sendable, Hashable {
    public var bucket: String
    /// The decoded key (S3 sends it URL-encoded with `+` for space; decoded here exactly once).
    public var key: String
    public var size: Int?
    public var eventTime: String?

    public init(bucket: String, key: String, size: Int? = nil, eventTime: String? = nil) {
        self.bucket = bucket
        self.key = key
        self.size = size
        self.eventTime = eventTime
    }

    /// The notification as S3 would send it, key URL-encoded.
    public func encoded(time: Timestamp) -> [UInt8] {
        JSONValue.object([
            "Records": .array([
                .object([
                    "eventVersion": .string("2.1"),
                    "eventSource": .string("orderflow:s3"),
                    "eventTime": .string(eventTime ?? time.iso8601),
                    "eventName": .string("ObjectCreated:Put"),
                    "s3": .object([
                        "bucket": .object(["name": .string(bucket)]),
                        "object": .object([
                            "key": .string(S3KeyEncoding.encode(key)),
                            "size": size.map { .int($0) },
                        ]),
                    ]),
                ]),
            ]),
        ]).serializedBytes()
    }

    /// Every object-created record in an S3 event document; throws a readable reason when it is not one.
    /// Whether `bytes` is the `s3:TestEvent` S3 sends once when a notification is configured (nothing to ingest).
    public static func isTestEvent<Bytes: Collection<UInt8>>(_ bytes: Bytes) -> Bool {
        (try? JSONParser.parse(bytes))?["Event"]?.stringValue == "s3:TestEvent"
    }

    public static func decode<Bytes: Collection<UInt8>>(_ bytes: Bytes) throws(OrderValidationError) -> [ObjectCreatedNotification] {
        let json: JSONValue
        do { json = try JSONParser.parse(bytes) } catch { throw .malformed("notification is not JSON: \(error)") }
        guard let records = json["Records"]?.arrayValue else {
            throw .malformed("notification has no Records array")
        }
        var result: [ObjectCreatedNotification] = []
        for record in records {
            if let name = record["eventName"]?.stringValue, !name.hasPrefix("ObjectCreated") { continue }
            guard let bucket = record["s3"]?["bucket"]?["name"]?.stringValue,
                  let rawKey = record["s3"]?["object"]?["key"]?.stringValue else {
                throw .malformed("notification record lacks s3.bucket.name or s3.object.key")
            }
            guard let key = S3KeyEncoding.decode(rawKey) else {
                throw .malformed("notification key \(rawKey) is not valid URL encoding")
            }
            let size = record["s3"]?["object"]?["size"]?.int64Value.map { Int($0) }
            result.append(ObjectCreatedNotification(bucket: bucket, key: key, size: size, eventTime: record["eventTime"]?.stringValue))
        }
        return result
    }
}

/// The URL encoding S3 uses for keys in event notifications: form encoding, where `+` stands for a space.
public enum S3KeyEncoding {
    /// Encodes like S3: unreserved characters and `/` as-is, space as `+`, everything else `%XX`.
    public static func encode(_ key: String) -> String {
        var out = ""
        for byte in key.utf8 {
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                 UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: "."), UInt8(ascii: "~"), UInt8(ascii: "/"):
                out.unicodeScalars.append(Unicode.Scalar(byte))
            case UInt8(ascii: " "):
                out += "+"
            default:
                let hex = Array("0123456789ABCDEF".utf8)
                out += "%"
                out.unicodeScalars.append(Unicode.Scalar(hex[Int(byte >> 4)]))
                out.unicodeScalars.append(Unicode.Scalar(hex[Int(byte & 0xF)]))
            }
        }
        return out
    }

    /// Decodes a key from a notification exactly once: `+` → space, `%XX` → byte. Nil on broken escapes or UTF-8.
    public static func decode(_ encoded: String) -> String? {
        var bytes: [UInt8] = []
        var iterator = Array(encoded.utf8).makeIterator()
        while let byte = iterator.next() {
            switch byte {
            case UInt8(ascii: "+"):
                bytes.append(UInt8(ascii: " "))
            case UInt8(ascii: "%"):
                guard let high = iterator.next().flatMap(hexValue), let low = iterator.next().flatMap(hexValue) else { return nil }
                bytes.append(high << 4 | low)
            default:
                bytes.append(byte)
            }
        }
        return String(validating: bytes, as: UTF8.self)
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}
