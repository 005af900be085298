import Foundation
import PaymentPosterKit

// PaymentPoster: post payments to Salesforce through a durable outbox and the resilience
// pipeline. With no arguments it runs against the embedded simulator through an incident.
do {
    let options = try PosterOptions.parse(Array(CommandLine.arguments.dropFirst()))
    let summary = try await PaymentPoster.run(options)
    print(summary.table)
    print(summary.json)
    exit(summary.lost == 0 && (summary.duplicates ?? 0) == 0 ? 0 : 1)
} catch let error as PosterOptions.UsageError {
    FileHandle.standardError.write(Data((error.description + "\n").utf8))
    exit(2)
} catch {
    FileHandle.standardError.write(Data("PaymentPoster failed: \(error)\n".utf8))
    exit(1)
}
