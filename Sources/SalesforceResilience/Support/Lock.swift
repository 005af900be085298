#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A value guarded by a `pthread_mutex_t`: the lock of this package's few short critical
/// sections (breaker transitions, budgets, counters, the simulator's state).
///
/// Not `Synchronization.Mutex`: ThreadSanitizer on this toolchain does not model that lock and
/// reports every section it guards as a race, which hides real races in the noise. It does
/// intercept pthread mutexes, so with this lock a TSan run is clean unless something is wrong.
///
/// The value lives behind a pointer rather than in a stored `var`: the mutex already makes each
/// access exclusive, and a stored property would add the runtime's exclusivity check to every
/// section (a few percent of a request through the chain).
package final class Lock<Value>: @unchecked Sendable {
    private let mutex: UnsafeMutablePointer<pthread_mutex_t>
    private let value: UnsafeMutablePointer<Value>

    /// A lock around `value`.
    package init(_ value: Value) {
        self.value = .allocate(capacity: 1)
        self.value.initialize(to: value)
        mutex = .allocate(capacity: 1)
        mutex.initialize(to: pthread_mutex_t())
        pthread_mutex_init(mutex, nil)
    }

    deinit {
        pthread_mutex_destroy(mutex)
        mutex.deinitialize(count: 1)
        mutex.deallocate()
        value.deinitialize(count: 1)
        value.deallocate()
    }

    /// Runs `body` with the value, holding the lock.
    package func withLock<Result>(_ body: (inout Value) throws -> Result) rethrows -> Result {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return try body(&value.pointee)
    }
}
