/// The DynamoDB operations OrderFlow uses, typed, over an `AWSClient` (JSON 1.0). Property names of the wire structs
/// below are DynamoDB's own, so the encoder writes them as the API expects.
public struct DynamoDB: Sendable {
    public let client: AWSClient

    public init(client: AWSClient) {
        self.client = client
    }

    // MARK: Expressions

    /// A condition or update expression with its placeholder names (`#n`) and values (`:v`).
    public struct Expression: Sendable, Hashable {
        public var text: String
        public var names: [String: String]
        public var values: DynamoDBItem

        public init(_ text: String, names: [String: String] = [:], values: DynamoDBItem = [:]) {
            self.text = text
            self.names = names
            self.values = values
        }
    }

    // MARK: GetItem

    private struct GetItemInput: Encodable {
        let TableName: String
        let Key: DynamoDBItem
        let ConsistentRead: Bool
    }

    private struct GetItemOutput: Decodable {
        let Item: DynamoDBItem?
    }

    /// The item with `key`, or nil.
    public func getItem(table: String, key: DynamoDBItem, consistent: Bool = true) async throws(AWSClientError) -> DynamoDBItem? {
        let output = try await client.json(.dynamoDB, operation: "GetItem",
                                           input: GetItemInput(TableName: table, Key: key, ConsistentRead: consistent),
                                           as: GetItemOutput.self)
        return output.Item
    }

    // MARK: PutItem

    private struct PutItemInput: Encodable {
        let TableName: String
        let Item: DynamoDBItem
        let ConditionExpression: String?
        let ExpressionAttributeNames: [String: String]?
        let ExpressionAttributeValues: DynamoDBItem?
    }

    /// Writes `item`, replacing any item with its key, only if `condition` holds when given (else
    /// `ConditionalCheckFailedException`).
    public func putItem(table: String, item: DynamoDBItem, condition: Expression? = nil) async throws(AWSClientError) {
        let input = PutItemInput(
            TableName: table, Item: item, ConditionExpression: condition?.text,
            ExpressionAttributeNames: Self.nonEmpty(condition?.names), ExpressionAttributeValues: Self.nonEmpty(condition?.values)
        )
        _ = try await client.json(.dynamoDB, operation: "PutItem", input: input, as: Empty.self)
    }

    // MARK: TransactWriteItems

    /// One write of a transaction.
    public enum TransactWrite: Sendable, Hashable {
        /// Puts `item`, only if `condition` holds (when given).
        case put(table: String, item: DynamoDBItem, condition: Expression?)
        /// Applies `update` to the item with `key` (creating it when absent), only if `condition` holds (when given).
        case update(table: String, key: DynamoDBItem, update: Expression, condition: Expression?)
    }

    private struct TransactPut: Encodable {
        let TableName: String
        let Item: DynamoDBItem
        let ConditionExpression: String?
        let ExpressionAttributeNames: [String: String]?
        let ExpressionAttributeValues: DynamoDBItem?
    }

    private struct TransactUpdate: Encodable {
        let TableName: String
        let Key: DynamoDBItem
        let UpdateExpression: String
        let ConditionExpression: String?
        let ExpressionAttributeNames: [String: String]?
        let ExpressionAttributeValues: DynamoDBItem?
    }

    private struct TransactItem: Encodable {
        var Put: TransactPut? = nil
        var Update: TransactUpdate? = nil
    }

    private struct TransactWriteInput: Encodable {
        let TransactItems: [TransactItem]
        let ClientRequestToken: String?
    }

    private struct Empty: Decodable {}

    /// Writes all of `writes` or none (at most 100). A failed condition cancels the whole transaction with the error
    /// code `TransactionCanceledException`. `clientRequestToken` (≤ 36 characters) makes retries of the same call
    /// idempotent for ten minutes.
    public func transactWriteItems(_ writes: [TransactWrite], clientRequestToken: String? = nil) async throws(AWSClientError) {
        let items = writes.map { write -> TransactItem in
            switch write {
            case .put(let table, let item, let condition):
                return TransactItem(Put: TransactPut(
                    TableName: table, Item: item, ConditionExpression: condition?.text,
                    ExpressionAttributeNames: Self.nonEmpty(condition?.names),
                    ExpressionAttributeValues: Self.nonEmpty(condition?.values)
                ))
            case .update(let table, let key, let update, let condition):
                let (names, values) = Self.merged(update, condition)
                return TransactItem(Update: TransactUpdate(
                    TableName: table, Key: key, UpdateExpression: update.text, ConditionExpression: condition?.text,
                    ExpressionAttributeNames: Self.nonEmpty(names), ExpressionAttributeValues: Self.nonEmpty(values)
                ))
            }
        }
        _ = try await client.json(.dynamoDB, operation: "TransactWriteItems",
                                  input: TransactWriteInput(TransactItems: items, ClientRequestToken: clientRequestToken),
                                  as: Empty.self)
    }

    // MARK: UpdateItem

    private struct UpdateItemInput: Encodable {
        let TableName: String
        let Key: DynamoDBItem
        let UpdateExpression: String
        let ConditionExpression: String?
        let ExpressionAttributeNames: [String: String]?
        let ExpressionAttributeValues: DynamoDBItem?
        let ReturnValues: String
    }

    private struct UpdateItemOutput: Decodable {
        let Attributes: DynamoDBItem?
    }

    /// Applies `update` if `condition` holds (else `ConditionalCheckFailedException`); returns the item after it.
    /// Placeholders of both expressions share one namespace.
    public func updateItem(table: String, key: DynamoDBItem, update: Expression, condition: Expression? = nil) async throws(AWSClientError) -> DynamoDBItem {
        let (names, values) = Self.merged(update, condition)
        let input = UpdateItemInput(
            TableName: table, Key: key, UpdateExpression: update.text, ConditionExpression: condition?.text,
            ExpressionAttributeNames: Self.nonEmpty(names), ExpressionAttributeValues: Self.nonEmpty(values),
            ReturnValues: "ALL_NEW"
        )
        let output = try await client.json(.dynamoDB, operation: "UpdateItem", input: input, as: UpdateItemOutput.self)
        return output.Attributes ?? [:]
    }

    // MARK: Scan

    /// One page of a scan.
    public struct ScanPage: Sendable {
        public var items: [DynamoDBItem]
        /// Where the next page starts; nil when the scan is complete.
        public var lastEvaluatedKey: DynamoDBItem?
        /// How many items matched (with `countOnly`, the only result).
        public var count: Int
    }

    private struct ScanInput: Encodable {
        let TableName: String
        let Limit: Int?
        let ExclusiveStartKey: DynamoDBItem?
        let FilterExpression: String?
        let ExpressionAttributeNames: [String: String]?
        let ExpressionAttributeValues: DynamoDBItem?
        let ConsistentRead: Bool
        let Select: String?
    }

    private struct ScanOutput: Decodable {
        let Items: [DynamoDBItem]?
        let LastEvaluatedKey: DynamoDBItem?
        let Count: Int?
    }

    /// Reads up to `limit` items (before `filter` is applied, as DynamoDB counts) from `startKey` on.
    public func scan(
        table: String, limit: Int? = nil, startKey: DynamoDBItem? = nil, filter: Expression? = nil,
        consistent: Bool = true, countOnly: Bool = false
    ) async throws(AWSClientError) -> ScanPage {
        let input = ScanInput(
            TableName: table, Limit: limit, ExclusiveStartKey: startKey, FilterExpression: filter?.text,
            ExpressionAttributeNames: Self.nonEmpty(filter?.names), ExpressionAttributeValues: Self.nonEmpty(filter?.values),
            ConsistentRead: consistent, Select: countOnly ? "COUNT" : nil
        )
        let output = try await client.json(.dynamoDB, operation: "Scan", input: input, as: ScanOutput.self)
        let items = output.Items ?? []
        return ScanPage(items: items, lastEvaluatedKey: output.LastEvaluatedKey, count: output.Count ?? items.count)
    }

    // MARK: BatchWriteItem (deletes)

    private struct DeleteRequest: Codable {
        let Key: DynamoDBItem
    }

    private struct WriteRequest: Codable {
        let DeleteRequest: DeleteRequest?
    }

    private struct BatchWriteInput: Encodable {
        let RequestItems: [String: [WriteRequest]]
    }

    private struct BatchWriteOutput: Decodable {
        let UnprocessedItems: [String: [WriteRequest]]?
    }

    /// The most keys one BatchWriteItem call takes.
    public static let batchWriteLimit = 25

    /// Deletes the items with `keys` (at most 25); returns the keys DynamoDB left unprocessed (throttling), which the
    /// caller retries.
    public func batchDelete(table: String, keys: [DynamoDBItem]) async throws(AWSClientError) -> [DynamoDBItem] {
        guard !keys.isEmpty else { return [] }
        let requests = keys.map { WriteRequest(DeleteRequest: DeleteRequest(Key: $0)) }
        let output = try await client.json(.dynamoDB, operation: "BatchWriteItem",
                                           input: BatchWriteInput(RequestItems: [table: requests]), as: BatchWriteOutput.self)
        return (output.UnprocessedItems?[table] ?? []).compactMap { $0.DeleteRequest?.Key }
    }

    // MARK: CreateTable (development and tests; production tables come from deploy/cloudformation)

    private struct AttributeDefinition: Encodable {
        let AttributeName: String
        let AttributeType: String
    }

    private struct KeySchemaElement: Encodable {
        let AttributeName: String
        let KeyType: String
    }

    private struct CreateTableInput: Encodable {
        let TableName: String
        let AttributeDefinitions: [AttributeDefinition]
        let KeySchema: [KeySchemaElement]
        let BillingMode: String
    }

    /// Creates an on-demand table whose key is the string attribute `hashKey`.
    public func createTable(_ table: String, hashKey: String) async throws(AWSClientError) {
        let input = CreateTableInput(
            TableName: table,
            AttributeDefinitions: [AttributeDefinition(AttributeName: hashKey, AttributeType: "S")],
            KeySchema: [KeySchemaElement(AttributeName: hashKey, KeyType: "HASH")],
            BillingMode: "PAY_PER_REQUEST"
        )
        _ = try await client.json(.dynamoDB, operation: "CreateTable", input: input, as: Empty.self)
    }

    /// The placeholders of an update and its condition, which share one namespace in a request.
    private static func merged(_ update: Expression, _ condition: Expression?) -> ([String: String], DynamoDBItem) {
        let names = update.names.merging(condition?.names ?? [:]) { first, _ in first }
        let values = update.values.merging(condition?.values ?? [:]) { first, _ in first }
        return (names, values)
    }

    // MARK: BatchGetItem

    private struct KeysAndAttributes: Encodable {
        let Keys: [DynamoDBItem]
        let ConsistentRead: Bool
    }

    private struct BatchGetInput: Encodable {
        let RequestItems: [String: KeysAndAttributes]
    }

    private struct UnprocessedKeys: Decodable {
        let Keys: [DynamoDBItem]
    }

    private struct BatchGetOutput: Decodable {
        let Responses: [String: [DynamoDBItem]]?
        let UnprocessedKeys: [String: UnprocessedKeys]?
    }

    /// The most keys one BatchGetItem call takes.
    public static let batchGetLimit = 100

    /// The items with `keys` that exist (at most 100 keys), and the keys DynamoDB left unprocessed for the caller to retry.
    public func batchGetItem(table: String, keys: [DynamoDBItem], consistent: Bool = true) async throws(AWSClientError) -> (items: [DynamoDBItem], unprocessed: [DynamoDBItem]) {
        guard !keys.isEmpty else { return ([], []) }
        let input = BatchGetInput(RequestItems: [table: KeysAndAttributes(Keys: keys, ConsistentRead: consistent)])
        let output = try await client.json(.dynamoDB, operation: "BatchGetItem", input: input, as: BatchGetOutput.self)
        return (output.Responses?[table] ?? [], output.UnprocessedKeys?[table]?.Keys ?? [])
    }

    private static func nonEmpty<Value>(_ dictionary: [String: Value]?) -> [String: Value]? {
        guard let dictionary, !dictionary.isEmpty else { return nil }
        return dictionary
    }
}
