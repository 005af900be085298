import Foundation

/// Signs a JWT's `header.claims` with RS256 (RSASSA-PKCS1-v1_5 with SHA-256).
///
/// On Apple platforms ``SecurityJWTSigner`` does it with Security.framework. On Linux, inject
/// your own, for example with swift-crypto's `_RSA.Signing.PrivateKey`:
///
/// ```swift
/// struct CryptoSigner: JWTSigner {
///     let key: _RSA.Signing.PrivateKey
///     func signRS256(_ message: Data) throws -> Data {
///         try key.signature(for: message, padding: .insecurePKCS1v1_5).rawRepresentation
///     }
/// }
/// ```
public protocol JWTSigner: Sendable {
    /// The RS256 signature of `message`.
    func signRS256(_ message: Data) throws -> Data
}

/// The JWT bearer flow's assertion: who the app is, which user it acts for, and for how long.
public struct JWTBearerAssertion: Sendable {
    /// The connected app's consumer key (`iss`).
    public var consumerKey: String
    /// The Salesforce username to act as (`sub`).
    public var username: String
    /// `https://login.salesforce.com`, `https://test.salesforce.com` or the My Domain URL (`aud`).
    public var audience: String
    /// How long the assertion is valid. Default 3 minutes (Salesforce allows a few).
    public var lifetime: Duration
    /// The signer.
    public var signer: any JWTSigner

    /// Creates an assertion description.
    public init(consumerKey: String, username: String, audience: String = "https://login.salesforce.com", lifetime: Duration = .seconds(180), signer: any JWTSigner) {
        self.consumerKey = consumerKey
        self.username = username
        self.audience = audience
        self.lifetime = lifetime
        self.signer = signer
    }

    /// The signed compact JWT for `now`.
    public func make(now: Date) throws -> String {
        let header = #"{"alg":"RS256","typ":"JWT"}"#
        let expiry = Int64(now.timeIntervalSince1970) + lifetime.components.seconds
        let claims: [String: String] = ["iss": consumerKey, "sub": username, "aud": audience]
        var claimsJSON = try JSONSerialization.data(withJSONObject: claims, options: [.sortedKeys])
        claimsJSON.removeLast()  // the closing brace, to append the numeric exp
        claimsJSON.append(Data(#","exp":\#(expiry)}"#.utf8))
        let signingInput = Base64URL.encode(Data(header.utf8)) + "." + Base64URL.encode(claimsJSON)
        let signature: Data
        do {
            signature = try signer.signRS256(Data(signingInput.utf8))
        } catch {
            throw AuthenticationError.signingFailed(String(describing: type(of: error)))
        }
        return signingInput + "." + Base64URL.encode(signature)
    }
}

/// Base64url without padding (RFC 7515 §2).
public enum Base64URL {
    /// Encodes `data`.
    public static func encode(_ data: Data) -> String {
        data.base64EncodedString()
            .replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    /// Decodes `text`, or `nil` if it is not base64url.
    public static func decode(_ text: String) -> Data? {
        var base64 = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        base64 += String(repeating: "=", count: (4 - base64.count % 4) % 4)
        return Data(base64Encoded: base64)
    }
}

#if canImport(Security)
import Security

/// An RS256 ``JWTSigner`` backed by Security.framework (Apple platforms).
public struct SecurityJWTSigner: JWTSigner, @unchecked Sendable {
    // SecKey is immutable and thread-safe once created.
    private let key: SecKey

    /// Creates a signer from a PKCS#1 DER RSA private key.
    public init(pkcs1DER: Data) throws {
        let attributes: [CFString: Any] = [kSecAttrKeyType: kSecAttrKeyTypeRSA, kSecAttrKeyClass: kSecAttrKeyClassPrivate]
        var error: Unmanaged<CFError>?
        guard let key = SecKeyCreateWithData(pkcs1DER as CFData, attributes as CFDictionary, &error) else {
            throw AuthenticationError.signingFailed("the key is not a PKCS#1 RSA private key")
        }
        self.key = key
    }

    /// Signs with PKCS#1 v1.5 and SHA-256.
    public func signRS256(_ message: Data) throws -> Data {
        var error: Unmanaged<CFError>?
        guard let signature = SecKeyCreateSignature(key, .rsaSignatureMessagePKCS1v15SHA256, message as CFData, &error) else {
            throw AuthenticationError.signingFailed("SecKeyCreateSignature failed")
        }
        return signature as Data
    }
}
#endif
