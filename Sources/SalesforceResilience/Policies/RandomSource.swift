
/// A shared source of uniform random numbers: the system's, or a seeded one so that runs repeat.
public final class RandomSource: Sendable {
    private let state: Lock<State>

    private enum State {
        case system
        case seeded(UInt64)
    }

    /// A seeded source (SplitMix64): the same seed gives the same sequence.
    public init(seed: UInt64) { state = Lock(.seeded(seed)) }

    private init() { state = Lock(.system) }

    /// A source backed by `SystemRandomNumberGenerator`.
    public static func system() -> RandomSource { RandomSource() }

    /// The next 64 random bits.
    public func next() -> UInt64 {
        state.withLock { state in
            switch state {
            case .system:
                var generator = SystemRandomNumberGenerator()
                return generator.next()
            case .seeded(let value):
                let next = value &+ 0x9E37_79B9_7F4A_7C15
                state = .seeded(next)
                var z = next
                z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
                z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
                return z ^ (z >> 31)
            }
        }
    }

    /// A uniform sample in `[0, 1)`.
    public func nextUnit() -> Double {
        Double(next() >> 11) * 0x1.0p-53
    }
}
