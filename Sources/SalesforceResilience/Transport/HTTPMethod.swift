/// An HTTP request method such as `GET` or `PATCH`.
///
/// A struct rather than an enum so that any method a server accepts can be expressed.
public struct HTTPMethod: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    /// The method token as sent on the wire, in upper case.
    public let rawValue: String

    /// Creates a method from its wire token; the token is upper-cased.
    public init(rawValue: String) { self.rawValue = rawValue.uppercased() }

    /// `GET`: read a resource; safe and idempotent.
    public static let get = HTTPMethod(rawValue: "GET")
    /// `HEAD`: headers of a resource; safe and idempotent.
    public static let head = HTTPMethod(rawValue: "HEAD")
    /// `POST`: create; not idempotent.
    public static let post = HTTPMethod(rawValue: "POST")
    /// `PUT`: replace; idempotent.
    public static let put = HTTPMethod(rawValue: "PUT")
    /// `PATCH`: partial update, and Salesforce's upsert by external id.
    public static let patch = HTTPMethod(rawValue: "PATCH")
    /// `DELETE`: remove; idempotent.
    public static let delete = HTTPMethod(rawValue: "DELETE")

    /// Whether HTTP semantics make repeating this method harmless (RFC 9110 §9.2.2).
    ///
    /// `PATCH` is not idempotent in general; an upsert by external id is, and says so
    /// through ``RequestContext/isIdempotent`` instead.
    public var isIdempotentByDefault: Bool {
        switch self {
        case .get, .head, .put, .delete: true
        default: false
        }
    }

    /// The wire token.
    public var description: String { rawValue }
}
