import Foundation

/// One known deviation: on targets matching `target` (a shell glob such as `*-direct`), the
/// failing tests matching `test` (a glob on the test id), the violated `attribute`, or the
/// findings whose root cause matches `finding` (a glob: `cma_alignment_cap`), are expected (XFAIL)
/// for `reason`, until `expires` (YYYY-MM-DD, inclusive) if given.
public struct Waiver: Codable, Sendable, Equatable {
    public var target: String
    public var test: String?
    public var attribute: String?
    public var finding: String? = nil
    public var reason: String
    public var expires: String?

    public init(target: String, test: String? = nil, attribute: String? = nil, finding: String? = nil, reason: String,
                expires: String? = nil) {
        self.target = target
        self.test = test
        self.attribute = attribute
        self.finding = finding
        self.reason = reason
        self.expires = expires
    }

    /// Whether the waiver has run out by `day` (a waiver is good through its expiry day).
    public func isExpired(on day: Date) -> Bool {
        guard let expires, let end = Self.day(expires) else { return false }
        // `end` is the expiry day's midnight in UTC; the waiver holds until the next one.
        return day >= end.addingTimeInterval(24 * 60 * 60)
    }

    static func day(_ text: String) -> Date? {
        guard text.count == 10 else { return nil }
        return dayFormatter.date(from: text)
    }

    static var dayFormatter: DateFormatter {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyy-MM-dd"
        return formatter
    }
}

/// A finding a waiver turned into an expected one.
public struct WaivedFinding: Codable, Sendable, Equatable {
    public enum Kind: String, Codable, Sendable { case test, attribute, finding }
    public var target: String
    public var kind: Kind
    /// The test id, the attribute name or the finding's id.
    public var subject: String
    public var reason: String
    /// Index of the waiver in its file, so a reader can find the line that did it.
    public var waiver: Int
}

/// What a waiver file did to one report.
public struct WaiverOutcome: Codable, Sendable, Equatable {
    /// The waiver file as the user named it.
    public var file: String
    public var applied: [WaivedFinding]
    /// Waivers that matched a target that ran, but no finding on it: the deviation is gone.
    public var stale: [Waiver]
    /// Waivers past their expiry date: they waive nothing any more.
    public var expired: [Waiver]
}
