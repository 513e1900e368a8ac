// JSON: the values of an .ipynb file, a parser that reports where malformed input goes wrong,
// and the writer Jupyter's own matches: keys sorted, one space of indent per level, non-ASCII
// kept as it is (Python's json.dumps(sort_keys=True, indent=1, ensure_ascii=False)).

public enum JSON: Equatable, Sendable {
    case null
    case bool(Bool)
    /// integers stay integers (execution counts, nbformat versions)
    case int(Int)
    case double(Double)
    case string(String)
    case array([JSON])
    case object([String: JSON])

    public subscript(key: String) -> JSON? {
        if case .object(let o) = self { return o[key] }
        return nil
    }

    public var string: String? { if case .string(let s) = self { return s } else { return nil } }
    public var int: Int? { if case .int(let i) = self { return i } else { return nil } }
    public var array: [JSON]? { if case .array(let a) = self { return a } else { return nil } }
    public var object: [String: JSON]? { if case .object(let o) = self { return o } else { return nil } }
}

public struct JSONError: Error, CustomStringConvertible {
    public let message: String
    public var description: String { message }
}

// MARK: parsing

extension JSON {
    /// Parses a whole document; throws with the line and column of the first problem.
    public static func parse(_ text: String) throws -> JSON {
        var p = JSONParser(Array(text.utf8))
        p.skipSpace()
        let v = try p.value(depth: 0)
        p.skipSpace()
        guard p.i == p.bytes.count else { throw p.error("unexpected text after the JSON value") }
        return v
    }

    /// Parses one value at the start of `text`; returns it and the number of bytes it used.
    static func parsePrefix(_ bytes: ArraySlice<UInt8>) throws -> (JSON, Int) {
        var p = JSONParser(Array(bytes))
        let v = try p.value(depth: 0)
        return (v, p.i)
    }
}

struct JSONParser {
    let bytes: [UInt8]
    var i = 0
    /// deeper nesting is refused rather than risking the stack
    static let maxDepth = 512

    init(_ bytes: [UInt8]) { self.bytes = bytes }

    func error(_ what: String) -> JSONError {
        var line = 1, column = 1
        for b in bytes[..<min(i, bytes.count)] {
            if b == 10 { line += 1; column = 1 } else { column += 1 }
        }
        return JSONError(message: "invalid JSON at line \(line), column \(column): \(what)")
    }

    mutating func skipSpace() {
        while i < bytes.count, [32, 9, 10, 13].contains(bytes[i]) { i += 1 }
    }

    mutating func value(depth: Int) throws -> JSON {
        guard depth < JSONParser.maxDepth else { throw error("nested too deeply") }
        skipSpace()
        guard i < bytes.count else { throw error("unexpected end of input") }
        switch bytes[i] {
        case UInt8(ascii: "{"):
            i += 1
            var out: [String: JSON] = [:]
            skipSpace()
            if i < bytes.count, bytes[i] == UInt8(ascii: "}") { i += 1; return .object(out) }
            while true {
                skipSpace()
                guard i < bytes.count, bytes[i] == UInt8(ascii: "\"") else { throw error("expected a string key") }
                let key = try string()
                skipSpace()
                try expect(UInt8(ascii: ":"))
                out[key] = try value(depth: depth + 1)
                skipSpace()
                if try endOrComma(UInt8(ascii: "}")) { return .object(out) }
            }
        case UInt8(ascii: "["):
            i += 1
            var out: [JSON] = []
            skipSpace()
            if i < bytes.count, bytes[i] == UInt8(ascii: "]") { i += 1; return .array(out) }
            while true {
                out.append(try value(depth: depth + 1))
                skipSpace()
                if try endOrComma(UInt8(ascii: "]")) { return .array(out) }
            }
        case UInt8(ascii: "\""):
            return .string(try string())
        case UInt8(ascii: "t"):
            try literal("true")
            return .bool(true)
        case UInt8(ascii: "f"):
            try literal("false")
            return .bool(false)
        case UInt8(ascii: "n"):
            try literal("null")
            return .null
        default:
            return try number()
        }
    }

    private mutating func expect(_ c: UInt8) throws {
        guard i < bytes.count, bytes[i] == c else { throw error("expected '\(Character(Unicode.Scalar(c)))'") }
        i += 1
    }

    /// after an element: true at the closing bracket, false after a comma
    private mutating func endOrComma(_ close: UInt8) throws -> Bool {
        guard i < bytes.count else { throw error("unexpected end of input") }
        if bytes[i] == close { i += 1; return true }
        guard bytes[i] == UInt8(ascii: ",") else { throw error("expected ',' or '\(Character(Unicode.Scalar(close)))'") }
        i += 1
        return false
    }

    private mutating func literal(_ word: String) throws {
        let w = Array(word.utf8)
        guard i + w.count <= bytes.count, Array(bytes[i..<i + w.count]) == w else { throw error("unexpected character") }
        i += w.count
    }

    private mutating func number() throws -> JSON {
        let start = i
        var isInteger = true
        while i < bytes.count {
            let c = bytes[i]
            if (c >= 48 && c <= 57) || c == UInt8(ascii: "-") || c == UInt8(ascii: "+") {
                i += 1
            } else if c == UInt8(ascii: ".") || c == UInt8(ascii: "e") || c == UInt8(ascii: "E") {
                isInteger = false
                i += 1
            } else {
                break
            }
        }
        let text = String(decoding: bytes[start..<i], as: UTF8.self)
        if text.isEmpty { throw error("unexpected character") }
        if isInteger, let n = Int(text) { return .int(n) }
        guard let d = Double(text) else { throw error("bad number '\(text)'") }
        return .double(d)
    }

    private mutating func string() throws -> String {
        i += 1  // the opening quote
        var out: [UInt8] = []
        while true {
            guard i < bytes.count else { throw error("unterminated string") }
            let c = bytes[i]
            i += 1
            if c == UInt8(ascii: "\"") { break }
            if c < 0x20 { throw error("control character in a string") }
            if c != UInt8(ascii: "\\") {
                out.append(c)
                continue
            }
            guard i < bytes.count else { throw error("unterminated string") }
            let e = bytes[i]
            i += 1
            switch e {
            case UInt8(ascii: "n"): out.append(10)
            case UInt8(ascii: "t"): out.append(9)
            case UInt8(ascii: "r"): out.append(13)
            case UInt8(ascii: "b"): out.append(8)
            case UInt8(ascii: "f"): out.append(12)
            case UInt8(ascii: "u"):
                var scalar = try hex4()
                if scalar >= 0xD800 && scalar < 0xDC00 {
                    // a surrogate pair
                    guard i + 1 < bytes.count, bytes[i] == UInt8(ascii: "\\"), bytes[i + 1] == UInt8(ascii: "u") else {
                        throw error("unpaired surrogate")
                    }
                    i += 2
                    let low = try hex4()
                    guard low >= 0xDC00 && low < 0xE000 else { throw error("unpaired surrogate") }
                    scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                }
                guard let u = Unicode.Scalar(scalar) else { throw error("invalid \\u escape") }
                out += Array(String(Character(u)).utf8)
            case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): out.append(e)
            default: throw error("invalid escape")
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    private mutating func hex4() throws -> UInt32 {
        guard i + 4 <= bytes.count, let v = UInt32(String(decoding: bytes[i..<i + 4], as: UTF8.self), radix: 16) else {
            throw error("invalid \\u escape")
        }
        i += 4
        return v
    }
}

// MARK: writing

extension JSON {
    /// Jupyter's layout: one space of indent per level, keys sorted, a newline at the end.
    public func formatted() -> String {
        var out = ""
        write(to: &out, indent: 0)
        return out + "\n"
    }

    /// One line, as Python's json.dumps writes it (`["a", "b"]`, `{"k": 1}`), for percent-format
    /// cell metadata.
    public func compact() -> String {
        switch self {
        case .array(let a): return "[" + a.map { $0.compact() }.joined(separator: ", ") + "]"
        case .object(let o): return "{" + o.keys.sorted().map { JSON.quoted($0) + ": " + o[$0]!.compact() }.joined(separator: ", ") + "}"
        default:
            var s = ""
            write(to: &s, indent: 0)
            return s
        }
    }

    private func write(to out: inout String, indent: Int) {
        switch self {
        case .null: out += "null"
        case .bool(let b): out += b ? "true" : "false"
        case .int(let n): out += String(n)
        case .double(let d): out += JSON.number(d)
        case .string(let s): out += JSON.quoted(s)
        case .array(let a):
            if a.isEmpty { out += "[]"; return }
            out += "[\n"
            for (k, v) in a.enumerated() {
                out += String(repeating: " ", count: indent + 1)
                v.write(to: &out, indent: indent + 1)
                out += k == a.count - 1 ? "\n" : ",\n"
            }
            out += String(repeating: " ", count: indent) + "]"
        case .object(let o):
            if o.isEmpty { out += "{}"; return }
            out += "{\n"
            let keys = o.keys.sorted()
            for (k, key) in keys.enumerated() {
                out += String(repeating: " ", count: indent + 1) + JSON.quoted(key) + ": "
                o[key]!.write(to: &out, indent: indent + 1)
                out += k == keys.count - 1 ? "\n" : ",\n"
            }
            out += String(repeating: " ", count: indent) + "}"
        }
    }

    /// NaN and infinities are not JSON: written as null
    private static func number(_ d: Double) -> String {
        guard d.isFinite else { return "null" }
        if d == d.rounded() && abs(d) < 1e16 { return String(Int(d)) + ".0" }
        return String(d)
    }

    static func quoted(_ s: String) -> String {
        var out = "\""
        for u in s.unicodeScalars {
            switch u {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case "\u{8}": out += "\\b"
            case "\u{C}": out += "\\f"
            default:
                if u.value < 0x20 {
                    let h = String(u.value, radix: 16)
                    out += "\\u" + String(repeating: "0", count: 4 - h.count) + h
                } else {
                    out.unicodeScalars.append(u)
                }
            }
        }
        return out + "\""
    }
}
