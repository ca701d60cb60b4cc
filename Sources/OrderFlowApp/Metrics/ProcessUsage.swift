#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// CPU time and resident memory of this process, read from the kernel.
struct ProcessUsage {
    var cpuSeconds: Double
    var residentBytes: Int?

    static func current() -> ProcessUsage {
        var usage = rusage()
        #if os(Linux)
        getrusage(RUSAGE_SELF.rawValue, &usage)
        #else
        getrusage(RUSAGE_SELF, &usage)
        #endif
        let cpu = Double(usage.ru_utime.tv_sec) + Double(usage.ru_utime.tv_usec) / 1e6
            + Double(usage.ru_stime.tv_sec) + Double(usage.ru_stime.tv_usec) / 1e6
        return ProcessUsage(cpuSeconds: cpu, residentBytes: residentBytes())
    }

    /// The current resident set size: `/proc/self/statm`'s second field, in pages (Linux); nil where there is no procfs.
    static func residentBytes() -> Int? {
        #if os(Linux)
        guard let text = procFile("/proc/self/statm", upTo: 128) else { return nil }
        let fields = text.split(separator: UInt8(ascii: " "))
        guard fields.count > 1, let pages = Int(String(decoding: fields[1], as: UTF8.self)) else { return nil }
        return pages * Int(sysconf(Int32(_SC_PAGESIZE)))
        #else
        return nil
        #endif
    }
}

/// The whole machine's CPU time, from the first line of `/proc/stat` (Linux); what CloudWatch's CPUUtilization of an
/// instance measures.
enum HostCPU {
    struct Reading: Sendable {
        var busy: UInt64
        var total: UInt64

        /// Percentage of CPU time spent busy between `earlier` and this reading; nil when no time passed.
        func busyPercent(since earlier: Reading) -> Double? {
            guard total > earlier.total else { return nil }
            return Double(busy &- earlier.busy) * 100 / Double(total - earlier.total)
        }
    }

    /// `cpu user nice system idle iowait irq softirq steal …`: busy is everything but idle and iowait.
    static func current() -> Reading? {
        #if os(Linux)
        guard let text = procFile("/proc/stat", upTo: 512) else { return nil }
        let firstLine = text.prefix { $0 != UInt8(ascii: "\n") }
        let fields = firstLine.split(separator: UInt8(ascii: " ")).dropFirst().compactMap { UInt64(String(decoding: $0, as: UTF8.self)) }
        guard fields.count >= 4 else { return nil }
        let total = fields.prefix(8).reduce(UInt64(0), +)
        let idle = fields[3] + (fields.count > 4 ? fields[4] : 0)
        return Reading(busy: total - idle, total: total)
        #else
        return nil
        #endif
    }
}

/// The first `limit` bytes of a small kernel file (procfs), or nil.
private func procFile(_ path: String, upTo limit: Int) -> ArraySlice<UInt8>? {
    let descriptor = open(path, O_RDONLY)
    guard descriptor >= 0 else { return nil }
    defer { close(descriptor) }
    var buffer = [UInt8](repeating: 0, count: limit)
    let count = buffer.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
    guard count > 0 else { return nil }
    return buffer[..<count]
}
