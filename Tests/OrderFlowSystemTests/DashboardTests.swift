import Foundation
import OrderFlowCore
import Testing

extension SystemTests {
    /// The dashboard at `/` in a real browser (headless Chromium): with data in the system, the page shows the right
    /// numbers, asks nothing of any other host, and renders at phone width (a screenshot is kept as a test artifact).
    @Suite("Dashboard in Chromium")
    struct DashboardTests {
        @Test("the page shows the system's numbers, lists and alarm states, and loads nothing from another host", .timeLimit(.minutes(2)))
        func dashboardShowsTheSystem() async throws {
            let chromium = try Chromium.path()
            let data = try TemporaryDirectory("dashboard")
            defer { data.remove() }
            let server = try await ServerUnderTest.start(dataDirectory: data, arguments: ["--alarm-period", "0.3"])
            defer { server.stop() }

            for body in [#"{"OrderId":"1001","Amount":450}"#, #"{"OrderId":"1002","Amount":300}"#,
                         #"{"orderId":"e-1","customerId":"c-9","currency":"EUR","items":[{"sku":"MUG","quantity":1,"unitPrice":"15.50"}]}"#] {
                #expect(try await server.api.send(.POST, "/orders", json: Array(body.utf8)).status == 201)
            }
            #expect(try await server.api.send(.PUT, "/uploads/orders/poison.json", json: Array("not an order".utf8)).status == 200)
            _ = try await eventually("orders counted, review open, poison dead-lettered, alarm raised", timeout: .seconds(30)) {
                let stats = try await server.api.json("/stats")
                let reviews = try await server.api.json("/reviews?status=open")["reviews"]?.arrayValue ?? []
                let alarms = try await server.api.json("/alarms")["alarms"]?.arrayValue ?? []
                let dlq = alarms.first { $0["name"]?.stringValue == "dead-letters" }?["state"]?.stringValue
                return stats["orders"]?.int64Value == 3 && reviews.count == 1 && dlq == "ALARM" ? true : nil
            }

            let work = try TemporaryDirectory("chromium")
            defer { work.remove() }
            let netLog = work.url.appendingPathComponent("net-log.json").path
            let dom = try await Chromium.run(chromium, profile: work.url.appendingPathComponent("profile").path,
                                             ["--dump-dom", "--log-net-log=\(netLog)", server.baseURL + "/"])
            let page = DOM(dom)
            #expect(page.attribute("data-ready", ofId: "updated") == "true", "the page did not finish a refresh:\n\(dom.prefix(3000))")
            #expect(page.value(ofId: "orders") == "3")
            #expect(page.value(ofId: "highValue") == "1")
            #expect(page.value(ofId: "openReviews") == "1")
            #expect(page.value(ofId: "deadLetters") == "1")
            #expect(page.value(ofId: "revenue") == "15.50 EUR, 750.00 USD")
            #expect(page.attribute("data-total", ofId: "perMinute") == "3")
            #expect(dom.contains(#"data-currency="USD" data-amount="750.00""#))
            #expect(dom.contains(#"data-currency="EUR" data-amount="15.50""#))
            #expect(dom.contains(#"<tr data-order="1001">"#), "the open review of 1001 is listed")
            #expect(dom.contains(#"data-approve="1001""#) && dom.contains(#"data-reject="1001""#))
            #expect(dom.contains(#"<tr data-queue="order-uploads" data-dlq="1">"#))
            #expect(dom.contains(#"data-redrive="order-uploads""#), "a redrive button for the queue with a dead letter")
            #expect(!dom.contains(#"data-redrive="HighValueQueue""#))
            #expect(dom.contains(#"data-alarm="dead-letters" data-state="ALARM""#))
            for id in ["1001", "1002", "e-1"] { #expect(dom.contains(#"<tr data-order="\#(id)">"#), "recent order \(id)") }
            #expect(dom.contains(#"<div id="error" role="alert" style="display: none;"></div>"#), "no error banner")

            // Every request the page made (its document's scripts, styles, fetches) went to the server under test.
            let requested = try Chromium.pageRequests(netLog: netLog)
            #expect(requested.contains(server.baseURL + "/stats"))
            let foreign = requested.filter { !$0.hasPrefix(server.baseURL + "/") }
            #expect(foreign.isEmpty, "requests to other hosts: \(foreign)")

            // Phone width: kept as an artifact for a human to look at.
            let screenshot = Chromium.artifactDirectory().appendingPathComponent("dashboard-phone.png").path
            try? FileManager.default.removeItem(atPath: screenshot)
            _ = try await Chromium.run(chromium, profile: work.url.appendingPathComponent("profile-2").path,
                                       ["--screenshot=\(screenshot)", "--window-size=412,1600", server.baseURL + "/"])
            let png = try Data(contentsOf: URL(fileURLWithPath: screenshot))
            #expect(png.count > 10_000 && png.starts(with: [0x89, 0x50, 0x4E, 0x47]), "screenshot at \(screenshot): \(png.count) bytes")
            print("dashboard test: screenshot at \(screenshot), \(requested.count) requests, all to \(server.baseURL)")
        }

        @Test("with authentication on, the page asks for an API key instead of showing figures", .timeLimit(.minutes(1)))
        func dashboardAsksForAKey() async throws {
            let chromium = try Chromium.path()
            let data = try TemporaryDirectory("dashboard-auth")
            defer { data.remove() }
            let server = try await ServerUnderTest.start(dataDirectory: data, arguments: ["--auth", "apikey"])
            defer { server.stop() }
            let work = try TemporaryDirectory("chromium-auth")
            defer { work.remove() }
            let page = DOM(try await Chromium.run(chromium, profile: work.url.appendingPathComponent("profile").path, ["--dump-dom", server.baseURL + "/"]))
            #expect(page.attribute("style", ofId: "auth")?.contains("display: block") == true, "\(page.html.prefix(2000))")
            #expect(page.value(ofId: "orders") == "", "no figures without a key")
        }
    }
}

/// The headless browser the dashboard test drives.
enum Chromium {
    /// `ORDERFLOW_CHROMIUM`, or `chromium` from Debian's package (scripts/test installs it); a clear failure otherwise.
    static func path() throws -> String {
        if let path = ProcessInfo.processInfo.environment["ORDERFLOW_CHROMIUM"], !path.isEmpty { return path }
        for candidate in ["/usr/bin/chromium", "/usr/bin/chromium-browser"] where FileManager.default.isExecutableFile(atPath: candidate) {
            return candidate
        }
        throw SystemTestFailure("no Chromium: install Debian's chromium package (scripts/test does) or set ORDERFLOW_CHROMIUM")
    }

    /// Where test artifacts go: `ORDERFLOW_TEST_ARTIFACTS`, or `.build/test-artifacts`.
    static func artifactDirectory() -> URL {
        let path = ProcessInfo.processInfo.environment["ORDERFLOW_TEST_ARTIFACTS"] ?? FileManager.default.currentDirectoryPath + "/.build/test-artifacts"
        let url = URL(fileURLWithPath: path)
        try? FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    /// Runs headless Chromium on a fresh profile with `arguments`; returns what it printed on stdout (e.g. the DOM).
    static func run(_ executable: String, profile: String, _ arguments: [String]) async throws -> String {
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("chromium-\(UUID().uuidString).out")
        FileManager.default.createFile(atPath: out.path, contents: nil)
        defer { try? FileManager.default.removeItem(at: out) }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        // The browser's own traffic (updates, sync, spelling dictionaries) is switched off, so the net log holds what
        // the page asked for.
        process.arguments = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
                             "--disable-background-networking", "--disable-component-update", "--disable-sync", "--disable-default-apps",
                             "--disable-extensions", "--disable-domain-reliability", "--disable-client-side-phishing-detection",
                             "--disable-spell-checking", "--no-default-browser-check", "--disable-features=Translate,MediaRouter,OptimizationHints,NetworkTimeServiceQuerying,AutofillServerCommunication",
                             "--user-data-dir=\(profile)", "--virtual-time-budget=5000", "--run-all-compositor-stages-before-draw"] + arguments
        process.standardOutput = try FileHandle(forWritingTo: out)
        process.standardError = FileHandle.nullDevice
        try process.run()
        _ = try await eventually("chromium exits", timeout: .seconds(60)) { process.isRunning ? nil : true }
        guard process.terminationStatus == 0 else { throw SystemTestFailure("chromium exited with \(process.terminationStatus)") }
        return String(decoding: try Data(contentsOf: out), as: UTF8.self)
    }

    /// The requests the page made, from a Chromium net log (`--log-net-log`): every request job whose initiator is a
    /// web origin. The browser's own traffic (update checks, network time, account probes) has no origin as initiator.
    static func pageRequests(netLog path: String) throws -> [String] {
        let log = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path))) as? [String: Any]
        let events = log?["events"] as? [[String: Any]] ?? []
        return events.compactMap { event -> String? in
            guard let params = event["params"] as? [String: Any], let url = params["url"] as? String,
                  let initiator = params["initiator"] as? String, initiator != "not an origin" else { return nil }
            return url
        }
    }
}

/// Reads figures out of a dumped DOM by element id.
struct DOM {
    let html: String
    init(_ html: String) { self.html = html }

    /// The opening tag of the element with `id`.
    func tag(id: String) -> Substring? {
        guard let idRange = html.range(of: #"id="\#(id)""#) else { return nil }
        let start = html[..<idRange.lowerBound].lastIndex(of: "<") ?? idRange.lowerBound
        let end = html[idRange.upperBound...].firstIndex(of: ">") ?? html.endIndex
        return html[start..<end]
    }

    func attribute(_ name: String, ofId id: String) -> String? {
        guard let tag = tag(id: id), let range = tag.range(of: #" \#(name)=""#) else { return nil }
        let tail = tag[range.upperBound...]
        return tail.firstIndex(of: "\"").map { String(tail[..<$0]) }
    }

    func value(ofId id: String) -> String? { attribute("data-value", ofId: id) }
}
