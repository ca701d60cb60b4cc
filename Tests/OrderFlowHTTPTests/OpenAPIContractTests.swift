import Foundation
import Hummingbird
import HummingbirdTesting
import OrderFlowHTTP
import Testing

@Suite("OpenAPI contract")
struct OpenAPIContractTests {
    static let specURL = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("docs/openapi.yaml")

    /// `METHOD /path` for every operation in docs/openapi.yaml (paths at two spaces, methods at four).
    static func specOperations() throws -> Set<String> {
        let lines = try String(contentsOf: specURL, encoding: .utf8).split(separator: "\n", omittingEmptySubsequences: false)
        var operations: Set<String> = []
        var inPaths = false
        var path: String?
        for line in lines {
            if line == "paths:" { inPaths = true; continue }
            if inPaths, !line.isEmpty, !line.hasPrefix(" ") { break }
            guard inPaths else { continue }
            if line.hasPrefix("  /"), !line.hasPrefix("   "), line.hasSuffix(":") {
                path = String(line.dropFirst(2).dropLast())
            } else if let path, line.hasPrefix("    "), !line.hasPrefix("     "),
                      let method = ["get", "post", "put", "delete", "patch"].first(where: { line == "    \($0):" }) {
                operations.insert("\(method.uppercased()) \(path)")
            }
        }
        return operations
    }

    @Test func everyRouteIsInTheSpecAndEveryOperationIsARoute() async throws {
        let t = try await TestSystem.make()
        let router = buildRouter(t.system.services, configuration: t.system.configuration.http)
        let routes = Set(router.routes.map { route -> String in
            let path = RouteScopes.normalized(route.path.description).replacingOccurrences(of: "/**", with: "/{key}")
            return "\(route.method.rawValue) \(path)"
        })
        let spec = try Self.specOperations()
        #expect(spec.count > 15)
        #expect(routes.subtracting(spec).isEmpty, "routes the spec lacks: \(routes.subtracting(spec).sorted())")
        #expect(spec.subtracting(routes).isEmpty, "operations without a route: \(spec.subtracting(routes).sorted())")
    }

    @Test func theServerServesExactlyTheDocumentInTheRepository() async throws {
        let t = try await TestSystem.make()
        let file = try String(contentsOf: Self.specURL, encoding: .utf8)
        try await t.application().test(.router) { client in
            try await client.execute(uri: "/openapi.yaml", method: .get) { response in
                #expect(response.status == .ok)
                #expect(response.headers[.contentType]?.hasPrefix("application/yaml") == true)
                #expect(response.text == file, "the embedded copy is stale: run scripts/embed-openapi")
            }
        }
    }
}
