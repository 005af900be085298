/// When ``TokenStore`` stops asking the token endpoint: a refresh loop, or a definite refusal.
///
/// A loop is a new token rejected before any request succeeded with it, several times in a
/// row; an org whose sessions expire every few seconds never trips it, because each of its
/// tokens served requests first. While a hold lasts, every caller gets the same error; when it
/// ends, one fetch is tried again.
struct RefreshGuard {
    let options: TokenRefreshOptions
    /// New tokens rejected in a row without serving a request.
    private(set) var unprovenRejections = 0
    private(set) var hold: (until: ResilienceInstant, error: AuthenticationError)?

    init(options: TokenRefreshOptions) { self.options = options }

    /// Throws the hold's error while it lasts.
    func check(now: ResilienceInstant) throws(AuthenticationError) {
        if let hold, now < hold.until { throw hold.error }
    }

    /// A token was rejected with 401; `proven` says whether a request had succeeded with it.
    /// Throws (and holds) when this makes a loop.
    mutating func rejected(proven: Bool, now: ResilienceInstant) throws(AuthenticationError) {
        guard !proven else {
            unprovenRejections = 0
            return
        }
        unprovenRejections += 1
        let threshold = max(1, options.loopThreshold)
        guard unprovenRejections >= threshold else { return }
        let duration = options.loopHold.atLeast(OptionLimits.timeout)
        let error = AuthenticationError.refreshLoop(rejectedTokens: unprovenRejections, hold: duration)
        hold = (now + duration, error)
        throw error
    }

    /// A fetch failed with `error`: a definite refusal holds for the cool-down.
    mutating func fetchFailed(_ error: any Error, now: ResilienceInstant) {
        guard let refusal = error as? AuthenticationError, case .refused = refusal else { return }
        hold = (now + options.refusalCooldown.atLeast(OptionLimits.timeout), refusal)
    }
}
