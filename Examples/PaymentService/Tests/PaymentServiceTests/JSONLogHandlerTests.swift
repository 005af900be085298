import Foundation
import Logging
import PaymentServiceKit
import SalesforceResilience
import Synchronization
import Testing

@Suite struct JSONLogHandlerTests {
    @Test func eachLineIsOneJSONObjectWithLevelLabelMessageAndMetadata() throws {
        let lines = Mutex<[String]>([])
        var logger = Logger(label: "payments") { label in JSONLogHandler(label: label, level: .debug) { line in lines.withLock { $0.append(line) } } }
        logger[metadataKey: "service"] = "payment-service"
        logger.debug("batch sent", metadata: ["delivered": "200", "nested": ["a": "1"], "list": ["x", "y"]])
        logger.trace("below the level")
        let written = lines.withLock { $0 }
        #expect(written.count == 1)
        let line = try #require(written.first)
        #expect(!line.contains("\n"))
        let object = try JSONDecoder().decode([String: JSONValue].self, from: Data(line.utf8))
        #expect(object["level"] == .string("debug") && object["label"] == .string("payments") && object["message"] == .string("batch sent"))
        #expect(object["metadata"] == .object(["service": "payment-service", "delivered": "200", "nested": .object(["a": "1"]), "list": .array(["x", "y"])]))
        #expect(object["time"]?.stringValue?.hasSuffix("Z") == true)
    }
}
