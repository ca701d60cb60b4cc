import GRDB
import Synchronization

/// The embedded backend's one write loop (behind `AppDatabase.write`): writes queue up while a transaction commits and
/// go together into the next, so one disk flush serves all of them. It runs on GRDB's writer queue itself: when a
/// transaction has committed, the next one starts at once with whatever queued meanwhile, without first waiting for a
/// Swift task to be scheduled (on a busy machine that wait left the writer idle for milliseconds per transaction).
final class SharedWriteLoop: Sendable {
    typealias Waiter = (write: PendingWrite, continuation: CheckedContinuation<Result<any Sendable, any Error>, Never>)

    private struct State {
        var pending: [Waiter] = []
        var running = false
    }

    private let state = Mutex(State())
    private let pool: DatabasePool
    /// Writes per transaction at most.
    static let maximumBatch = 2000
    /// How long one turn on the writer queue may go on, by default, before it lets other writes of the pool (API keys,
    /// documents, imports) have the queue.
    static let defaultTurn: Duration = .milliseconds(50)
    private let turnLength: Duration

    init(pool: DatabasePool, turn: Duration = defaultTurn) {
        self.pool = pool
        self.turnLength = turn
    }

    /// Queues `write` for the next transaction and returns its result once that transaction has committed (or failed).
    func submit(_ write: PendingWrite) async -> Result<any Sendable, any Error> {
        await withCheckedContinuation { continuation in
            let start = state.withLock { state -> Bool in
                state.pending.append((write, continuation))
                if state.running { return false }
                state.running = true
                return true
            }
            if start { scheduleTurn() }
        }
    }

    /// Writes waiting for the next transaction (not counting the one committing).
    var queuedCount: Int { state.withLock { $0.pending.count } }

    private func scheduleTurn() {
        pool.asyncWriteWithoutTransaction { db in self.turn(db) }
    }

    /// Commits transactions back to back while writes are waiting, for up to the turn's length; then queues the next
    /// turn behind whatever else waits for the writer queue.
    private func turn(_ db: Database) {
        let started = ContinuousClock.now
        while true {
            let batch = state.withLock { state -> [Waiter] in
                if state.pending.isEmpty {
                    state.running = false
                    return []
                }
                let count = min(state.pending.count, Self.maximumBatch)
                let batch = Array(state.pending.prefix(count))
                state.pending.removeFirst(count)
                return batch
            }
            if batch.isEmpty { return }
            let results = Self.commit(batch.map(\.write), in: db)
            for (waiter, result) in zip(batch, results) { waiter.continuation.resume(returning: result) }
            if ContinuousClock.now - started >= turnLength {
                scheduleTurn()
                return
            }
        }
    }

    /// One transaction for `writes`. A batched write runs without a savepoint (a savepoint makes SQLite journal every
    /// page the batch touches a second time), so when one throws the whole transaction is undone, its callers get the
    /// error and the others run again. When the commit itself fails, every write of the transaction gets that error.
    static func commit(_ writes: [PendingWrite], in db: Database) -> [Result<any Sendable, any Error>] {
        var failed: [Int: any Error] = [:]
        while true {
            do {
                var results: [Result<any Sendable, any Error>] = []
                try db.inTransaction {
                    results = try run(writes, failed: failed, in: db)
                    return .commit
                }
                return results
            } catch let failure as BatchFailure {
                for index in failure.indices { failed[index] = failure.error }
            } catch {
                return writes.map { _ in .failure(error) }
            }
        }
    }

    /// One shared transaction's work: each kind of batched write once for all its callers, then each single write in a
    /// savepoint of its own. Returns one result per write, in order; `failed` are writes already known to fail, answered
    /// with their error. Throws `BatchFailure` when a batched write throws, so the transaction is undone and run again.
    static func run(
        _ writes: [PendingWrite], failed: [Int: any Error], in db: Database
    ) throws -> [Result<any Sendable, any Error>] {
        var results = [Result<any Sendable, any Error>](repeating: .failure(CancellationError()), count: writes.count)
        var batches: [(runner: any BatchRunner, indices: [Int], parts: [any Sendable])] = []
        for (index, write) in writes.enumerated() {
            if let error = failed[index] {
                results[index] = .failure(error)
                continue
            }
            guard case .batched(let runner, let part) = write else { continue }
            if let existing = batches.firstIndex(where: { $0.runner === runner }) {
                batches[existing].indices.append(index)
                batches[existing].parts.append(part)
            } else {
                batches.append((runner, [index], [part]))
            }
        }
        for batch in batches {
            let outcomes: [any Sendable]
            do {
                outcomes = try batch.runner.runTogether(batch.parts, in: db)
            } catch {
                throw BatchFailure(indices: batch.indices, error: error)
            }
            for (index, outcome) in zip(batch.indices, outcomes) { results[index] = .success(outcome) }
        }
        for (index, write) in writes.enumerated() where failed[index] == nil {
            guard case .single(let body) = write else { continue }
            do {
                try db.inSavepoint {
                    results[index] = .success(try body(db))
                    return .commit
                }
            } catch {
                results[index] = .failure(error)
            }
        }
        return results
    }
}

/// One caller's part of a shared write transaction.
enum PendingWrite: Sendable {
    /// A write of its own, in a savepoint of its own.
    case single(@Sendable (Database) throws -> any Sendable)
    /// A caller's items for a `BatchedWrite` (`items` is the runner's `[Item]`).
    case batched(any BatchRunner, items: any Sendable)

    static func batched<Item, Outcome>(_ batch: BatchedWrite<Item, Outcome>, items: [Item]) -> PendingWrite {
        .batched(batch as any BatchRunner, items: items)
    }
}

/// Work of one kind that is cheaper done for many callers at once than for each on its own: the callers' items queued
/// for a shared transaction go to `run` together, in one call and without a savepoint of their own (see
/// `AppDatabase.write(_:with:)`). The order store's submissions are one: one stream append and one audit append per
/// transaction instead of one per request.
public final class BatchedWrite<Item: Sendable, Outcome: Sendable>: Sendable {
    let run: @Sendable ([Item], Database) throws -> [Outcome]

    /// `run` gets the items of every caller in arrival order and must return one outcome per item, in order.
    public init(_ run: @escaping @Sendable ([Item], Database) throws -> [Outcome]) {
        self.run = run
    }
}

/// A `BatchedWrite` without its types: runs the parts of several callers together and returns each caller's outcomes.
protocol BatchRunner: AnyObject, Sendable {
    func runTogether(_ parts: [any Sendable], in db: Database) throws -> [any Sendable]
}

/// A batched write threw: the transaction is undone, `indices` (its callers) get `error`, and the rest run again.
struct BatchFailure: Error {
    let indices: [Int]
    let error: any Error
}

extension BatchedWrite: BatchRunner {
    func runTogether(_ parts: [any Sendable], in db: Database) throws -> [any Sendable] {
        guard let typed = parts as? [[Item]] else {
            throw DatabaseError(message: "a batched write of \(Item.self) was given other items")
        }
        let items = typed.flatMap { $0 }
        let outcomes = try run(items, db)
        guard outcomes.count == items.count else {
            throw DatabaseError(message: "a batched write returned \(outcomes.count) outcomes for \(items.count) items")
        }
        var parts: [any Sendable] = []
        var start = 0
        for items in typed {
            parts.append(Array(outcomes[start..<start + items.count]))
            start += items.count
        }
        return parts
    }
}
