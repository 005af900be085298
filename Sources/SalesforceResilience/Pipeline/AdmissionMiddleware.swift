/// The outermost gate: refuses, without sending, what the operating mode or the API budget
/// guard does not admit. Refusals are ``AdmissionError``s (category ``FailureCategory/shed``).
public struct AdmissionMiddleware: Middleware, InlineMiddleware {
    /// The operator's mode.
    public let modes: ModeSwitch
    /// The API budget guard.
    public let budget: APIBudgetGuard

    /// Creates the gate.
    public init(modes: ModeSwitch, budget: APIBudgetGuard) {
        self.modes = modes
        self.budget = budget
    }

    /// Admits or refuses the request.
    public func intercept(_ request: HTTPRequest, context: RequestContext, next: MiddlewareNext) async throws -> HTTPResponse {
        try await handle(request, context, next: next)
    }

    func before(_ request: HTTPRequest, _ context: RequestContext) throws {
        let mode = modes.mode
        guard mode.admits(context.priority) else {
            throw AdmissionError(reason: .mode(mode), operation: context.operation)
        }
        if context.priority != .critical, budget.isShedding {
            throw AdmissionError(reason: .apiBudget(fraction: budget.latest?.fraction ?? 1), operation: context.operation)
        }
    }

    func succeeded(_ response: HTTPResponse, _ ticket: Void, _ context: RequestContext) {}

    func failed(_ error: any Error, _ ticket: Void, _ context: RequestContext) -> any Error { error }
}
