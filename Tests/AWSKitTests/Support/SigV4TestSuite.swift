import AWSKit
import Foundation
import Testing

/// The official SigV4 test vectors in `<repo>/../shared/testdata/aws-sigv4-test-suite`.
///
/// Located from this source file rather than the working directory so `swift test` finds them
/// from any directory; in CI the repository is cloned with `shared/` beside it.
enum SigV4TestSuite {
    /// The suite's folder.
    static let directory: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent() // Support
        .deletingLastPathComponent() // AWSKitTests
        .deletingLastPathComponent() // Tests
        .deletingLastPathComponent() // repository root
        .appendingPathComponent("../shared/testdata/aws-sigv4-test-suite")
        .standardizedFileURL

    enum SuiteError: Error, CustomStringConvertible {
        case missingDirectory(String)
        case emptyDirectory(String)

        var description: String {
            switch self {
            case .missingDirectory(let path):
                return "SigV4 test vectors not found at \(path): clone the shared testdata beside the repository"
            case .emptyDirectory(let path):
                return "SigV4 test vector folder \(path) holds no cases"
            }
        }
    }

    /// Every case folder, sorted; throws (failing the tests that use it) when the suite is absent.
    static func cases(in directory: URL = directory) throws -> [SigV4TestCase] {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory.path, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw SuiteError.missingDirectory(directory.path)
        }
        let names = try FileManager.default.contentsOfDirectory(atPath: directory.path).filter { name in
            var isCase: ObjCBool = false
            let request = directory.appendingPathComponent(name).appendingPathComponent("request.txt").path
            return FileManager.default.fileExists(atPath: request, isDirectory: &isCase) && !isCase.boolValue
        }
        guard !names.isEmpty else { throw SuiteError.emptyDirectory(directory.path) }
        return names.sorted().map { SigV4TestCase(name: $0, directory: directory.appendingPathComponent($0)) }
    }

    /// The cases that have expected files for `variant`.
    static func cases(with variant: SigV4TestCase.Variant) throws -> [SigV4TestCase] {
        try cases().filter { $0.has(variant) }
    }
}

/// One folder of the suite.
struct SigV4TestCase: Sendable, CustomTestStringConvertible {
    /// Signing with the `Authorization` header or presigning into the query string.
    enum Variant: String, Sendable, CaseIterable {
        case header
        case query
    }

    /// The `context.json` of a case.
    struct Context: Decodable {
        struct Credentials: Decodable {
            let accessKeyId: String
            let secretAccessKey: String
            let token: String?
        }

        let credentials: Credentials
        let expirationInSeconds: Int64
        let normalize: Bool
        let region: String
        let service: String
        let signBody: Bool
        let timestamp: String
        let omitSessionToken: Bool?
    }

    let name: String
    let directory: URL

    var testDescription: String { name }

    func has(_ variant: Variant) -> Bool {
        ["canonical-request", "string-to-sign", "signature"].allSatisfy { kind in
            FileManager.default.fileExists(atPath: directory.appendingPathComponent("\(variant.rawValue)-\(kind).txt").path)
        }
    }

    func text(_ file: String) throws -> String {
        try String(contentsOf: directory.appendingPathComponent(file), encoding: .utf8)
    }

    func expected(_ variant: Variant, _ kind: String) throws -> String {
        try text("\(variant.rawValue)-\(kind).txt")
    }

    func context() throws -> Context {
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        return try decoder.decode(Context.self, from: Data(text("context.json").utf8))
    }

    func request() throws -> RawHTTPRequest {
        try RawHTTPRequest.parse(text("request.txt"))
    }

    /// The signer, credentials, date and request the case describes.
    func signingInputs() throws -> (signer: SigV4Signer, credentials: AWSCredentials, date: Date, request: SigV4Request) {
        let context = try context()
        let raw = try request()
        // `normalize` only governs dot segments and slashes. The suite's paths are raw wire text (spaces,
        // UTF-8) that its expected output encodes once more, i.e. double encoding stays on for every case.
        let options = SigV4Options(
            normalizePath: context.normalize,
            doubleEncodePath: true,
            omitSessionToken: context.omitSessionToken ?? false,
            addContentSHA256Header: context.signBody
        )
        let signer = SigV4Signer(region: context.region, service: context.service, options: options)
        let credentials = AWSCredentials(
            accessKeyID: context.credentials.accessKeyId,
            secretAccessKey: context.credentials.secretAccessKey,
            sessionToken: context.credentials.token
        )
        let date = try Date(context.timestamp, strategy: .iso8601)
        let request = SigV4Request(
            method: raw.method,
            path: raw.path,
            query: raw.query,
            headers: raw.headers,
            payload: raw.body.isEmpty ? .empty : .bytes(raw.body)
        )
        return (signer, credentials, date, request)
    }
}
