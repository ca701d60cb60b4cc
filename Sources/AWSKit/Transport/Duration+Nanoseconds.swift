extension Duration {
    /// Whole nanoseconds, saturating: a cap of centuries must not overflow into a negative delay or timeout.
    var saturatingNanoseconds: Int64 {
        let (seconds, attoseconds) = components
        let (scaled, overflow) = seconds.multipliedReportingOverflow(by: 1_000_000_000)
        if overflow {
            return seconds < 0 ? .min : .max
        }
        let (total, overflowAdding) = scaled.addingReportingOverflow(attoseconds / 1_000_000_000)
        if overflowAdding {
            return seconds < 0 ? .min : .max
        }
        return total
    }
}
