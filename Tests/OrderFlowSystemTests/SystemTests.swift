import Testing

/// The `orderflow` binary as users run it: a child process on a port of its own, over a data directory of each test's.
/// The suites run one after another: they measure a server under load and kill processes, and on a small machine
/// they would otherwise compete for the CPU and for each other's time bounds.
@Suite(.serialized)
struct SystemTests {}
