import OrderFlowCore
import Testing

@Suite("W3C trace context")
struct TraceContextTests {
    @Test func parsesTheSpecExampleAndPrintsItBack() throws {
        let value = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
        let trace = try #require(TraceContext(traceparent: value))
        #expect(trace.traceId == "4bf92f3577b34da6a3ce929d0e0e4736")
        #expect(trace.parentId == "00f067aa0ba902b7")
        #expect(trace.flags == 1)
        #expect(trace.description == value)
    }

    @Test(arguments: [
        "", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7", "01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        "00-00000000000000000000000000000000-00f067aa0ba902b7-01", "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
        "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01", "00-4bf92f3577b34da6a3ce929d0e0e473-00f067aa0ba902b7-01",
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-1", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-0g",
    ])
    func refusesInvalidValues(_ value: String) {
        #expect(TraceContext(traceparent: value) == nil)
    }

    @Test func randomAndChildTracesAreValidAndDistinct() throws {
        let trace = TraceContext.random()
        #expect(TraceContext(traceparent: trace.description) == trace)
        let child = trace.child()
        #expect(child.traceId == trace.traceId)
        #expect(child.parentId != trace.parentId)
        #expect(TraceContext(traceparent: child.description) == child)
        #expect(TraceContext.random().traceId != trace.traceId)
    }
}
