// ConfigDictionary: typed reads from a Hugging Face `config.json` dictionary, as JSONSerialization
// gives it (NSNumber, NSNull) or as Swift code builds it (Int, Double, nil), with errors that name
// the key. Keys a model does not use are ignored: real configs carry many.

import Foundation
import TesseraTensor

struct ConfigDictionary {
    let values: [String: Any]
    /// the op errors are reported under (`EncoderConfig`)
    let op: String

    /// the value at `key`, nil when absent or JSON null
    private func raw(_ key: String) -> Any? {
        guard let v = values[key], !(v is NSNull) else { return nil }
        if case Optional<Any>.none = v { return nil }
        return v
    }

    private func wrongType(_ key: String, _ v: Any, _ expected: String) -> TensorError {
        TensorError(op, "config key '\(key)' must be \(expected), got \(v)")
    }

    private func missing(_ key: String) -> TensorError {
        TensorError(op, "config has no '\(key)' (a required key)")
    }

    func int(_ key: String) throws -> Int {
        guard let v = try optionalInt(key) else { throw missing(key) }
        return v
    }

    func int(_ key: String, default d: Int) throws -> Int { try optionalInt(key) ?? d }

    func optionalInt(_ key: String) throws -> Int? {
        guard let v = raw(key) else { return nil }
        if let i = v as? Int { return i }
        if let d = v as? Double, d.rounded() == d, Swift.abs(d) < 1e15 { return Int(d) }
        throw wrongType(key, v, "an integer")
    }

    func double(_ key: String, default d: Double) throws -> Double {
        guard let v = raw(key) else { return d }
        if let x = v as? Double { return x }
        if let i = v as? Int { return Double(i) }
        if let f = v as? Float { return Double(f) }
        throw wrongType(key, v, "a number")
    }

    func string(_ key: String, default d: String) throws -> String {
        guard let v = raw(key) else { return d }
        guard let s = v as? String else { throw wrongType(key, v, "a string") }
        return s
    }

    func bool(_ key: String, default d: Bool) throws -> Bool {
        guard let v = raw(key) else { return d }
        guard let b = v as? Bool else { throw wrongType(key, v, "true or false") }
        return b
    }

    /// whether `key` holds a value other than null
    func has(_ key: String) -> Bool { raw(key) != nil }
}
