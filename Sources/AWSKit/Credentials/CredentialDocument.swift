import Foundation

/// The JSON credentials document that both the container endpoint and IMDS serve.
///
/// `{"AccessKeyId": …, "SecretAccessKey": …, "Token": …, "Expiration": "2024-05-01T12:00:00Z"}`;
/// IMDS adds `"Code": "Success"`, `LastUpdated` and `Type`. Errors name the field that is wrong,
/// never a field's value, since the values are the secrets.
enum CredentialDocument {
    private struct Fields: Decodable {
        let code: String?
        let accessKeyID: String?
        let secretAccessKey: String?
        let token: String?
        let expiration: String?

        enum CodingKeys: String, CodingKey {
            case code = "Code"
            case accessKeyID = "AccessKeyId"
            case secretAccessKey = "SecretAccessKey"
            case token = "Token"
            case expiration = "Expiration"
        }
    }

    /// The credentials in `body`, which `source` fetched from `endpoint` (both only for the error).
    static func credentials(
        from body: String, source: String, endpoint: String
    ) throws(AWSCredentialError) -> AWSCredentials {
        func problem(_ reason: String) -> AWSCredentialError {
            .invalidResponse(source: source, endpoint: endpoint, reason: reason)
        }
        let fields: Fields
        do {
            fields = try JSONDecoder().decode(Fields.self, from: Data(body.utf8))
        } catch {
            throw problem("the body is not a JSON object with string fields")
        }
        if let code = fields.code, code != "Success" {
            throw problem("Code is \"\(code)\", not \"Success\"")
        }
        guard let accessKeyID = fields.accessKeyID, !accessKeyID.isEmpty else {
            throw problem("AccessKeyId is missing")
        }
        guard let secret = fields.secretAccessKey, !secret.isEmpty else {
            throw problem("SecretAccessKey is missing")
        }
        // Both endpoints only hand out temporary credentials; without an expiration nothing would
        // know when to fetch new ones, so a document without one is rejected rather than cached forever.
        guard let expirationText = fields.expiration else {
            throw problem("Expiration is missing")
        }
        guard let expiration = parseTimestamp(expirationText) else {
            throw problem("Expiration \"\(expirationText)\" is not an ISO 8601 timestamp")
        }
        return AWSCredentials(
            accessKeyID: accessKeyID,
            secretAccessKey: secret,
            sessionToken: fields.token.flatMap { $0.isEmpty ? nil : $0 },
            expiration: expiration
        )
    }

    /// ISO 8601 with or without fractional seconds; the endpoints send whole seconds today.
    private static func parseTimestamp(_ text: String) -> Date? {
        if let date = try? Date.ISO8601FormatStyle().parse(text) {
            return date
        }
        return try? Date.ISO8601FormatStyle(includingFractionalSeconds: true).parse(text)
    }
}
