/// `transform` applied to every element with at most `limit` running at once; results in input order. The first
/// error cancels the rest and is rethrown.
func concurrentMap<Element: Sendable, Output: Sendable>(
    _ elements: [Element], limit: Int, _ transform: @escaping @Sendable (Element) async throws -> Output
) async throws -> [Output] {
    if elements.count == 1 { return [try await transform(elements[0])] }
    let width = max(1, min(limit, elements.count))
    let collected: [Int: Output] = try await withThrowingTaskGroup(of: (Int, Output).self) { group in
        var started = 0
        while started < width {
            let index = started
            let element = elements[index]
            group.addTask { (index, try await transform(element)) }
            started += 1
        }
        var results: [Int: Output] = [:]
        while let (index, output) = try await group.next() {
            results[index] = output
            if started < elements.count {
                let nextIndex = started
                let element = elements[nextIndex]
                group.addTask { (nextIndex, try await transform(element)) }
                started += 1
            }
        }
        return results
    }
    var outputs: [Output] = []
    outputs.reserveCapacity(elements.count)
    for index in elements.indices {
        guard let output = collected[index] else { preconditionFailure("concurrentMap lost result \(index)") }
        outputs.append(output)
    }
    return outputs
}
