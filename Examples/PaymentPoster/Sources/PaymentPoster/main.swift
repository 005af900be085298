import Foundation
import PaymentPosterKit
import SalesforceResilience

// PaymentPoster: post payments to Salesforce through a durable outbox and the resilience
// pipeline. With no arguments it runs against the embedded simulator through an incident.
// Exit status: 0 every payment landed once; 1 undelivered, lost, duplicated or an error;
// 2 a bad command line or a journal that belongs elsewhere; 3 stopped by --max-wait.
func fail(_ message: String, status: Int32) -> Never {
    FileHandle.standardError.write(Data((message + "\n").utf8))
    exit(status)
}

do {
    let options = try PosterOptions.parse(Array(CommandLine.arguments.dropFirst()))
    let summary = try await PaymentPoster.run(options)
    print(summary.table)
    print(summary.json)
    exit(summary.exitCode)
} catch let error as PosterOptions.UsageError {
    fail(error.description, status: 2)
} catch let error as PosterJournalError {
    fail("PaymentPoster: \(error)", status: 2)
} catch let error as FileJournalOutboxStore.JournalError {
    fail("PaymentPoster: \(error)", status: 2)
} catch let error as PosterLoginTimeout {
    fail("PaymentPoster stopped: \(error)", status: 3)
} catch {
    fail("PaymentPoster failed: \(error)", status: 1)
}
