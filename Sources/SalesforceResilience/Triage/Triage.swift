import Foundation

extension SalesforceClient {
    /// The runbook's Quick Triage, through the same transport: the Salesforce status API (the
    /// instance's status and active incidents), the API limits (which also checks that
    /// authentication works), and the recent error mix from ``metrics``. Each check becomes a
    /// finding with the runbook's action; ``TriageReport/recommendation`` is the most urgent.
    ///
    /// Triage never throws: a check that cannot run is itself a finding.
    public func triage() async -> TriageReport {
        var report = TriageReport(findings: [], metrics: metrics.snapshot())
        await checkStatusAPI(&report)
        await checkLimitsAndAuth(&report)
        checkErrorMix(&report)
        return report
    }

    private func checkStatusAPI(_ report: inout TriageReport) async {
        let base = configuration.statusAPIBaseURL
        if let key = configuration.instanceKey {
            let url = base.appendingPathComponent("instances").appendingPathComponent(key).appendingPathComponent("status")
            if let body = await statusJSON(url), let status = body.objectValue?["status"]?.stringValue {
                report.instanceStatus = status
                let ok = status.uppercased() == "OK"
                report.findings.append(.init(check: "status", observation: "instance \(key) is \(status)", action: ok ? .none : .enableFallbackMode))
            } else {
                report.findings.append(.init(check: "status", observation: "status API unreachable or unreadable", action: .none))
            }
        }
        let incidentsURL = base.appendingPathComponent("incidents").appendingPathComponent("active")
        guard case .array(let incidents)? = await statusJSON(incidentsURL) else {
            report.findings.append(.init(check: "incidents", observation: "status API unreachable or unreadable", action: .none))
            return
        }
        let ours = configuration.instanceKey.map { key in incidents.filter { Self.mentions($0, key.uppercased()) } } ?? []
        report.activeIncidents = ours.count
        report.findings.append(.init(
            check: "incidents",
            observation: "\(incidents.count) active incident(s), \(ours.count) on this instance",
            action: ours.isEmpty ? .none : .enableFallbackMode))
    }

    private func checkLimitsAndAuth(_ report: inout TriageReport) async {
        do {
            let limits = try await self.limits(priority: .critical)
            report.findings.append(.init(check: "auth", observation: "authenticated", action: .none))
            guard let daily = limits.dailyAPIRequests else { return }
            report.dailyAPIRequests = daily
            let remaining = daily.max > 0 ? Double(daily.remaining) / Double(daily.max) : 0
            report.findings.append(.init(
                check: "limits", observation: "\(daily.remaining) of \(daily.max) daily API requests remaining",
                action: remaining <= 1 - configuration.apiBudget.shedThreshold ? .switchToCriticalOnly : .none))
        } catch {
            let category = configuration.classifier.classify(error)
            let action: TriageReport.Action = switch category {
            case .sessionExpired, .authenticationFailed: .reauthenticate
            case .apiLimitExceeded: .switchToCriticalOnly
            case .shed: .none
            case let other where other.allowsFallback: .enableFallbackMode
            default: .none
            }
            report.findings.append(.init(check: "limits", observation: "could not read limits: \(category.rawValue)", action: action))
        }
    }

    private func checkErrorMix(_ report: inout TriageReport) {
        let snapshot = report.metrics
        let failures = snapshot.calls - snapshot.successes
        // Refusals by our own policies (open breaker, shedding) are consequences; the cause is
        // whatever else failed, if anything did.
        let causes = snapshot.failuresByCategory.filter { $0.key != .circuitOpen && $0.key != .shed }
        let dominant = causes.max { $0.value < $1.value || ($0.value == $1.value && $0.key.rawValue > $1.key.rawValue) }?.key
            ?? snapshot.dominantFailure
        guard snapshot.calls >= 10, Double(failures) / Double(snapshot.calls) >= 0.2, let dominant else {
            report.findings.append(.init(check: "errors", observation: "\(failures) of \(snapshot.calls) recent calls failed", action: .none))
            return
        }
        let codes = snapshot.failuresByErrorCode.sorted { $0.value > $1.value }.prefix(3).map { "\($0.key) ×\($0.value)" }.joined(separator: ", ")
        let action: TriageReport.Action = switch dominant {
        case .clientError: .rollBackCodeBug
        case .throttled, .requestLimited: .slowDown
        case .sessionExpired, .authenticationFailed: .reauthenticate
        case .apiLimitExceeded: .switchToCriticalOnly
        case let other where other.allowsFallback: .enableFallbackMode
        default: .none
        }
        report.findings.append(.init(
            check: "errors", observation: "\(failures) of \(snapshot.calls) recent calls failed, mostly \(dominant.rawValue)\(codes.isEmpty ? "" : " (\(codes))")",
            action: action))
    }

    /// One unauthenticated attempt at a status API URL; `nil` if it fails or is not JSON.
    private func statusJSON(_ url: URL) async -> JSONValue? {
        guard let response = try? await pipeline.transport.send(HTTPRequest(method: .get, url: url, headers: ["Accept": "application/json"])),
              response.isSuccess else { return nil }
        return try? JSONDecoder().decode(JSONValue.self, from: response.body)
    }

    private static func mentions(_ value: JSONValue, _ key: String) -> Bool {
        switch value {
        case .string(let text): text.uppercased() == key
        case .array(let items): items.contains { mentions($0, key) }
        case .object(let fields): fields.values.contains { mentions($0, key) }
        default: false
        }
    }
}
