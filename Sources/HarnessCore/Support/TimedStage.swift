import Foundation

/// Runs `body` as `stage`, records its duration and outcome, and rethrows its error.
public func timedStage<T>(
    _ stage: StageName, into records: inout [StageRecord], _ body: () throws -> (T, String?)
) throws -> T {
    let start = Date()
    do {
        let (value, detail) = try body()
        records.append(StageRecord(stage: stage, status: .ok, seconds: Date().timeIntervalSince(start), detail: detail))
        return value
    } catch {
        records.append(StageRecord(
            stage: stage, status: .failed, seconds: Date().timeIntervalSince(start), detail: "\(error)"))
        throw error
    }
}
