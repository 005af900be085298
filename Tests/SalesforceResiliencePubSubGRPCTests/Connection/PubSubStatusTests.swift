#if PubSubGRPC
import GRPCCore
import SalesforceResiliencePubSub
import SalesforceResiliencePubSubGRPC
import Testing

/// gRPC statuses and the service's `error-code` trailers mapped onto the subscriber's decisions.
@Suite struct PubSubStatusTests {
    static func error(_ code: RPCError.Code, _ message: String = "m", errorCode: String? = nil) -> RPCError {
        var metadata = Metadata()
        if let errorCode { metadata.addString(errorCode, forKey: PubSubStatus.errorCodeKey) }
        metadata.addString("rpc-42", forKey: PubSubStatus.rpcIDKey)
        return RPCError(code: code, message: message, metadata: metadata)
    }

    @Test func statusesMapToDecisions() {
        let cases: [(RPCError, PubSubError.Kind)] = [
            (Self.error(.unauthenticated), .authentication),
            (Self.error(.permissionDenied, errorCode: PubSubStatus.authError), .authentication),
            (Self.error(.invalidArgument, errorCode: PubSubStatus.replayIDCorrupted), .replayIDInvalid),
            (Self.error(.invalidArgument, "The Replay ID validation failed"), .replayIDInvalid),
            (Self.error(.invalidArgument, "topic name mismatch", errorCode: "sfdc.platform.eventbus.grpc.subscription.fetch.topic.mismatch"), .permanent),
            (Self.error(.invalidArgument, "topic name mismatch"), .permanent),
            (Self.error(.unavailable, "RST_STREAM closed stream"), .unavailable),
            (Self.error(.internalError), .unavailable),
            (Self.error(.unknown), .unavailable),
            (Self.error(.cancelled), .unavailable),
            (Self.error(.deadlineExceeded), .unavailable),
            (Self.error(.resourceExhausted, errorCode: "sfdc.platform.eventbus.grpc.concurrent.client.limit.exceeded"), .unavailable),
            (Self.error(.notFound), .permanent),
            (Self.error(.permissionDenied), .permanent),
            (Self.error(.unimplemented), .permanent),
        ]
        for (error, kind) in cases {
            #expect(PubSubStatus.error(from: error).kind == kind, "\(error)")
        }
    }

    @Test func theMessageNamesTheStatusTheCodeAndTheRPCID() {
        let mapped = PubSubStatus.error(from: Self.error(.invalidArgument, "bad replay", errorCode: PubSubStatus.replayIDCorrupted))
        #expect(mapped.message.contains("bad replay"))
        #expect(mapped.message.contains(PubSubStatus.replayIDCorrupted))
        #expect(mapped.message.contains("rpc-42"))
    }

    @Test func aFailureThatIsNotAStatusIsUnavailable() {
        struct Refused: Error {}
        #expect(PubSubStatus.error(from: Refused()).kind == .unavailable)
        #expect(PubSubStatus.error(from: CancellationError()).kind == .unavailable)
        let already = PubSubError(.permanent, "x")
        #expect(PubSubStatus.error(from: already) == already)
    }
}
#endif
