#if PubSubGRPC // the package trait that brings this module
import GRPCCore
import SalesforceResiliencePubSub

/// How a gRPC failure of the Pub/Sub API maps onto the subscriber's decisions.
///
/// | gRPC status | `error-code` trailer | ``PubSubError/Kind`` |
/// |---|---|---|
/// | `UNAUTHENTICATED`, or any | `…service.auth.error` | `.authentication` |
/// | `INVALID_ARGUMENT` | `…replayid.corrupted` (or a message naming the replay id) | `.replayIDInvalid` |
/// | `UNAVAILABLE`, `INTERNAL`, `UNKNOWN`, `CANCELLED`, `DEADLINE_EXCEEDED`, `ABORTED`, `RESOURCE_EXHAUSTED` | | `.unavailable` |
/// | anything else (`NOT_FOUND`, `PERMISSION_DENIED`, other `INVALID_ARGUMENT`…) | | `.permanent` |
///
/// A failure that is not a gRPC status (the connection could not be made) is `.unavailable`.
public enum PubSubStatus {
    /// The trailer holding the service's own error code.
    public static let errorCodeKey = "error-code"
    /// The trailer holding the id Salesforce support traces a call by.
    public static let rpcIDKey = "rpc-id"
    /// The error code of a replay id the service no longer retains or cannot read.
    public static let replayIDCorrupted = "sfdc.platform.eventbus.grpc.subscription.fetch.replayid.corrupted"
    /// The error code of a refused session.
    public static let authError = "sfdc.platform.eventbus.grpc.service.auth.error"

    /// `error` as the subscriber acts on it. The message holds the status, the service's text and
    /// error code and the rpc id: never the call's metadata.
    public static func error(from error: any Error) -> PubSubError {
        if let already = error as? PubSubError { return already }
        if error is CancellationError { return PubSubError(.unavailable, "cancelled") }
        guard let rpc = error as? RPCError else {
            return PubSubError(.unavailable, "connection: \(error)")
        }
        let code = rpc.metadata[stringValues: errorCodeKey].first(where: { _ in true })
        let rpcID = rpc.metadata[stringValues: rpcIDKey].first(where: { _ in true })
        var message = "\(rpc.code): \(rpc.message)"
        if let code { message += " [\(errorCodeKey): \(code)]" }
        if let rpcID { message += " [\(rpcIDKey): \(rpcID)]" }
        if rpc.code == .unauthenticated || code == authError { return PubSubError(.authentication, message) }
        switch rpc.code {
        case .invalidArgument:
            let replay = code == replayIDCorrupted || (code == nil && rpc.message.lowercased().contains("replay"))
            return PubSubError(replay ? .replayIDInvalid : .permanent, message)
        case .unavailable, .internalError, .unknown, .cancelled, .deadlineExceeded, .aborted, .resourceExhausted:
            return PubSubError(.unavailable, message)
        default:
            return PubSubError(.permanent, message)
        }
    }
}
#endif
