#if Observability // the package trait that brings this module's dependencies
import SalesforceResilience
import Tracing

/// Opens a span around each call, or around each attempt, through swift-distributed-tracing.
///
/// Install both, at the two places the client's chain offers:
/// ```swift
/// var configuration = SalesforceConfiguration(instanceURL: url)
/// configuration.callMiddleware = [TracingMiddleware(.call)]
/// configuration.attemptMiddleware = [TracingMiddleware(.attempt)]
/// ```
/// An attempt's span is a child of its call's. Attributes are sanitised: the operation name
/// (`upsert Payment__c`), the HTTP method and status, Salesforce's error code, the failure
/// category and the attempt number — never the URL (its path holds external ids, its query
/// SOQL), a header, a body or an error message.
public struct TracingMiddleware: Middleware {
    /// What one span covers.
    public enum Scope: String, Sendable {
        /// A whole call, retries included: `salesforce <operation>`.
        case call
        /// One attempt: `salesforce <operation> attempt`.
        case attempt
    }

    /// What each span covers.
    public let scope: Scope
    private let tracer: any Tracer
    private let classifier: OutcomeClassifier

    /// Creates the middleware; `tracer` defaults to the process's `InstrumentationSystem.tracer`.
    public init(_ scope: Scope, tracer: (any Tracer)? = nil, classifier: OutcomeClassifier = OutcomeClassifier()) {
        self.scope = scope
        self.tracer = tracer ?? InstrumentationSystem.tracer
        self.classifier = classifier
    }

    /// Wraps the rest of the chain in a span.
    public func intercept(_ request: HTTPRequest, context: RequestContext, next: MiddlewareNext) async throws -> HTTPResponse {
        let name = scope == .call ? "salesforce \(context.operation)" : "salesforce \(context.operation) attempt"
        // The failure leaves the span as a value, not thrown through it: a thrown error would be
        // recorded whole (its message may quote record data), and only its category and code belong.
        let outcome: Result<HTTPResponse, any Error> = await tracer.withSpan(name, ofKind: .client) { span in
            span.attributes["salesforce.operation"] = context.operation
            span.attributes["http.request.method"] = request.method.rawValue
            if scope == .attempt { span.attributes["salesforce.attempt"] = context.attempt }
            do {
                let response = try await next(request, context)
                span.attributes["http.response.status_code"] = response.status
                return .success(response)
            } catch {
                let category = classifier.classify(error)
                span.attributes["salesforce.failure_category"] = category.rawValue
                if let failure = error as? SalesforceError {
                    span.attributes["http.response.status_code"] = failure.status
                    if let code = failure.errorCode { span.attributes["salesforce.error_code"] = code }
                }
                if category != .cancelled { span.setStatus(SpanStatus(code: .error, message: category.rawValue)) }
                return .failure(error)
            }
        }
        return try outcome.get()
    }
}
#endif
