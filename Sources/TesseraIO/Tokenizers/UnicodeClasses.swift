// UnicodeClasses: the character classes tokenizers split on (letters, numbers, whitespace, BERT
// punctuation, CJK ideographs, control characters), with table lookups for ASCII, and UTF-8
// stepping over byte buffers (tokenizers work on UTF-8 bytes, never on Swift Characters).

/// Classes of one Unicode scalar, as bits.
struct ScalarClass: OptionSet {
    let rawValue: UInt8
    /// general category L*
    static let letter = ScalarClass(rawValue: 1)
    /// general category N* (Rust's char::is_numeric, regex \p{N})
    static let number = ScalarClass(rawValue: 2)
    /// the White_Space property (Rust's char::is_whitespace, regex \s)
    static let whitespace = ScalarClass(rawValue: 4)
    /// BERT punctuation: ASCII punctuation or general category P*
    static let bertPunctuation = ScalarClass(rawValue: 8)
    /// general category C* other than tab, newline and carriage return (BERT drops these)
    static let control = ScalarClass(rawValue: 16)
    /// CJK ideographs BERT surrounds with spaces
    static let cjk = ScalarClass(rawValue: 32)
    /// general category Mn (removed when stripping accents)
    static let nonspacingMark = ScalarClass(rawValue: 64)
}

let asciiClasses: [ScalarClass] = (0..<128).map { classifyScalar(UInt32($0)) }

/// The classes of scalar `v`: a table lookup for ASCII, Unicode properties otherwise.
@inline(__always) func scalarClass(_ v: UInt32) -> ScalarClass {
    v < 128 ? asciiClasses[Int(v)] : classifyScalar(v)
}

func classifyScalar(_ v: UInt32) -> ScalarClass {
    guard let s = Unicode.Scalar(v) else { return .control }
    var c: ScalarClass = []
    let p = s.properties
    switch p.generalCategory {
    case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter: c.insert(.letter)
    case .decimalNumber, .letterNumber, .otherNumber: c.insert(.number)
    case .connectorPunctuation, .dashPunctuation, .openPunctuation, .closePunctuation, .initialPunctuation,
        .finalPunctuation, .otherPunctuation:
        c.insert(.bertPunctuation)
    case .control, .format, .surrogate, .privateUse, .unassigned:
        if v != 9 && v != 10 && v != 13 { c.insert(.control) }
    case .nonspacingMark: c.insert(.nonspacingMark)
    default: break
    }
    // BERT counts all non-alphanumeric ASCII printables as punctuation ($, +, <, =, >, ^, `, |, ~)
    if (33...47).contains(v) || (58...64).contains(v) || (91...96).contains(v) || (123...126).contains(v) {
        c.insert(.bertPunctuation)
    }
    if p.isWhitespace { c.insert(.whitespace) }
    if isCJKIdeograph(v) { c.insert(.cjk) }
    return c
}

/// The CJK Unified Ideographs blocks (and extensions, compatibility ideographs) as BERT lists them.
func isCJKIdeograph(_ v: UInt32) -> Bool {
    (0x4E00...0x9FFF).contains(v) || (0x3400...0x4DBF).contains(v) || (0x20000...0x2A6DF).contains(v)
        || (0x2A700...0x2B73F).contains(v) || (0x2B740...0x2B81F).contains(v) || (0x2B820...0x2CEAF).contains(v)
        || (0xF900...0xFAFF).contains(v) || (0x2F800...0x2FA1F).contains(v)
}

/// Length in bytes of the UTF-8 sequence that starts with byte `b` (1 for a stray continuation
/// byte, so loops always advance).
@inline(__always) func utf8Length(_ b: UInt8) -> Int {
    b < 0x80 ? 1 : b < 0xE0 ? (b < 0xC0 ? 1 : 2) : b < 0xF0 ? 3 : 4
}

/// Decodes the scalar at `i` of valid UTF-8 `p` (bytes of a Swift String); returns it and its length.
@inline(__always) func decodeScalar(_ p: UnsafeBufferPointer<UInt8>, _ i: Int) -> (UInt32, Int) {
    let b0 = UInt32(p[i])
    if b0 < 0x80 { return (b0, 1) }
    let n = min(utf8Length(p[i]), p.count - i)
    switch n {
    case 2: return ((b0 & 0x1F) << 6 | UInt32(p[i + 1] & 0x3F), 2)
    case 3: return ((b0 & 0x0F) << 12 | UInt32(p[i + 1] & 0x3F) << 6 | UInt32(p[i + 2] & 0x3F), 3)
    case 4:
        return ((b0 & 0x07) << 18 | UInt32(p[i + 1] & 0x3F) << 12 | UInt32(p[i + 2] & 0x3F) << 6 | UInt32(p[i + 3] & 0x3F), 4)
    default: return (0xFFFD, 1)
    }
}

/// Appends the UTF-8 encoding of scalar value `v`.
@inline(__always) func appendUTF8(_ v: UInt32, to out: inout [UInt8]) {
    if v < 0x80 {
        out.append(UInt8(v))
    } else if v < 0x800 {
        out.append(UInt8(0xC0 | v >> 6))
        out.append(UInt8(0x80 | v & 0x3F))
    } else if v < 0x10000 {
        out.append(UInt8(0xE0 | v >> 12))
        out.append(UInt8(0x80 | (v >> 6) & 0x3F))
        out.append(UInt8(0x80 | v & 0x3F))
    } else {
        out.append(UInt8(0xF0 | v >> 18))
        out.append(UInt8(0x80 | (v >> 12) & 0x3F))
        out.append(UInt8(0x80 | (v >> 6) & 0x3F))
        out.append(UInt8(0x80 | v & 0x3F))
    }
}

/// A String from UTF-8 bytes (invalid sequences become U+FFFD).
func stringFromUTF8<C: Collection>(_ bytes: C) -> String where C.Element == UInt8 {
    String(decoding: bytes, as: UTF8.self)
}
