// Normalizers: the text clean-up a tokenizer applies before splitting (HF tokenizers'
// `normalizer`): BERT's (control characters, CJK spacing, accents, lower case), Unicode forms,
// lower-casing, stripping, replacing, prepending, and sequences of these. They map UTF-8 bytes
// to UTF-8 bytes.

import Foundation

protocol TextNormalizer: Sendable {
    func normalize(_ text: [UInt8]) -> [UInt8]
}

/// Per-scalar results of the slow (non-ASCII) path, shared by all threads encoding with one
/// tokenizer: Foundation's decomposition is far slower than a dictionary lookup.
final class ScalarMappingCache: @unchecked Sendable {
    private var map: [UInt32: [UInt32]] = [:]
    private let lock = NSLock()
    private let compute: @Sendable (UInt32) -> [UInt32]

    init(_ compute: @escaping @Sendable (UInt32) -> [UInt32]) { self.compute = compute }

    func mapping(_ v: UInt32) -> [UInt32] {
        lock.lock()
        if let m = map[v] {
            lock.unlock()
            return m
        }
        lock.unlock()
        let m = compute(v)
        lock.lock()
        map[v] = m
        lock.unlock()
        return m
    }
}

/// Scalars of `s`.
func scalarValues(_ s: String) -> [UInt32] { s.unicodeScalars.map(\.value) }

/// Lower case of one scalar as Rust's char::to_lowercase gives it (full mapping, no context).
func lowercaseScalars(_ v: UInt32) -> [UInt32] {
    guard let s = Unicode.Scalar(v) else { return [v] }
    return scalarValues(s.properties.lowercaseMapping)
}

/// BERT's normalizer (HF BertNormalizer): drops NUL, U+FFFD and control characters and turns
/// whitespace into spaces (clean_text), surrounds CJK ideographs with spaces, strips accents
/// (NFD, then no Mn) and lower-cases. strip_accents defaults to the lowercase setting.
struct BertNormalizer: TextNormalizer {
    var cleanText = true
    var handleChineseChars = true
    var stripAccents: Bool? = nil
    var lowercase = true
    let cache: ScalarMappingCache

    init(cleanText: Bool = true, handleChineseChars: Bool = true, stripAccents: Bool? = nil, lowercase: Bool = true) {
        self.cleanText = cleanText
        self.handleChineseChars = handleChineseChars
        self.stripAccents = stripAccents
        self.lowercase = lowercase
        let strip = stripAccents ?? lowercase
        cache = ScalarMappingCache { v in
            var scalars = [v]
            if strip, let s = Unicode.Scalar(v) {
                scalars = scalarValues(String(s).decomposedStringWithCanonicalMapping).filter {
                    !scalarClass($0).contains(.nonspacingMark)
                }
            }
            return lowercase ? scalars.flatMap(lowercaseScalars) : scalars
        }
    }

    func normalize(_ text: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(text.count + 8)
        text.withUnsafeBufferPointer { p in
            var i = 0
            while i < p.count {
                let b = p[i]
                if b < 0x80 {
                    // ASCII: no accents, one-byte lower case
                    i += 1
                    let c = asciiClasses[Int(b)]
                    if cleanText {
                        if b == 0 || c.contains(.control) { continue }
                        if c.contains(.whitespace) {
                            out.append(32)
                            continue
                        }
                    }
                    out.append(lowercase && b >= 65 && b <= 90 ? b + 32 : b)
                    continue
                }
                let (v, n) = decodeScalar(p, i)
                i += n
                let c = classifyScalar(v)
                if cleanText {
                    if v == 0xFFFD || c.contains(.control) { continue }
                    if c.contains(.whitespace) {
                        out.append(32)
                        continue
                    }
                }
                if handleChineseChars && c.contains(.cjk) {
                    out.append(32)
                    appendUTF8(v, to: &out)
                    out.append(32)
                    continue
                }
                if lowercase || (stripAccents ?? false) {
                    for m in cache.mapping(v) { appendUTF8(m, to: &out) }
                } else {
                    appendUTF8(v, to: &out)
                }
            }
        }
        return out
    }
}

/// NFC, NFD, NFKC or NFKD (Foundation's mappings); ASCII text is left as it is.
struct UnicodeNormalizer: TextNormalizer {
    enum Form: String, Sendable { case nfc = "NFC", nfd = "NFD", nfkc = "NFKC", nfkd = "NFKD" }
    let form: Form

    func normalize(_ text: [UInt8]) -> [UInt8] {
        if text.allSatisfy({ $0 < 0x80 }) { return text }
        let s = stringFromUTF8(text)
        switch form {
        case .nfc: return Array(s.precomposedStringWithCanonicalMapping.utf8)
        case .nfd: return Array(s.decomposedStringWithCanonicalMapping.utf8)
        case .nfkc: return Array(s.precomposedStringWithCompatibilityMapping.utf8)
        case .nfkd: return Array(s.decomposedStringWithCompatibilityMapping.utf8)
        }
    }
}

/// Per-scalar lower case (HF Lowercase).
struct LowercaseNormalizer: TextNormalizer {
    let cache = ScalarMappingCache { lowercaseScalars($0) }

    func normalize(_ text: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(text.count)
        text.withUnsafeBufferPointer { p in
            var i = 0
            while i < p.count {
                let b = p[i]
                if b < 0x80 {
                    out.append(b >= 65 && b <= 90 ? b + 32 : b)
                    i += 1
                    continue
                }
                let (v, n) = decodeScalar(p, i)
                i += n
                for m in cache.mapping(v) { appendUTF8(m, to: &out) }
            }
        }
        return out
    }
}

/// Removes nonspacing marks (HF StripAccents, used after NFD).
struct StripAccentsNormalizer: TextNormalizer {
    func normalize(_ text: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(text.count)
        text.withUnsafeBufferPointer { p in
            var i = 0
            while i < p.count {
                let (v, n) = decodeScalar(p, i)
                if !scalarClass(v).contains(.nonspacingMark) { out.append(contentsOf: p[i..<i + n]) }
                i += n
            }
        }
        return out
    }
}

/// Removes whitespace from the left and/or right end (HF Strip).
struct StripNormalizer: TextNormalizer {
    let left: Bool
    let right: Bool

    func normalize(_ text: [UInt8]) -> [UInt8] {
        var s = Substring(stringFromUTF8(text))
        if left { s = s.drop { $0.isWhitespace } }
        if right { while let last = s.last, last.isWhitespace { s = s.dropLast() } }
        return Array(s.utf8)
    }
}

/// Prepends a string to non-empty text (HF Prepend).
struct PrependNormalizer: TextNormalizer {
    let prefix: [UInt8]
    func normalize(_ text: [UInt8]) -> [UInt8] { text.isEmpty ? text : prefix + text }
}

/// Replaces every occurrence of a literal string or a regular expression (HF Replace).
struct ReplaceNormalizer: TextNormalizer {
    let literal: [UInt8]?
    let regex: NSRegularExpression?
    let content: String

    init(literal: String, content: String) {
        self.literal = Array(literal.utf8)
        self.regex = nil
        self.content = content
    }

    init(regex pattern: String, content: String) throws {
        do {
            self.regex = try NSRegularExpression(pattern: pattern)
        } catch {
            throw TokenizerError.malformed("Replace normalizer: bad regular expression \(pattern)")
        }
        self.literal = nil
        self.content = content
    }

    func normalize(_ text: [UInt8]) -> [UInt8] {
        if let literal { return replaceAll(text, literal, Array(content.utf8)) }
        guard let regex else { return text }
        let s = stringFromUTF8(text)
        let r = regex.stringByReplacingMatches(
            in: s, range: NSRange(s.startIndex..., in: s), withTemplate: NSRegularExpression.escapedTemplate(for: content))
        return Array(r.utf8)
    }
}

/// `text` with every non-overlapping occurrence of `pattern` replaced, left to right.
func replaceAll(_ text: [UInt8], _ pattern: [UInt8], _ with: [UInt8]) -> [UInt8] {
    guard !pattern.isEmpty, text.count >= pattern.count else { return text }
    var out: [UInt8] = []
    out.reserveCapacity(text.count)
    var i = 0
    while i < text.count {
        if text[i] == pattern[0] && i + pattern.count <= text.count && text[i..<i + pattern.count].elementsEqual(pattern) {
            out.append(contentsOf: with)
            i += pattern.count
        } else {
            out.append(text[i])
            i += 1
        }
    }
    return out
}

struct SequenceNormalizer: TextNormalizer {
    let normalizers: [any TextNormalizer]
    func normalize(_ text: [UInt8]) -> [UInt8] { normalizers.reduce(text) { $1.normalize($0) } }
}

/// Replaces code points by a table (SentencePiece's normalization as a plain map, e.g. the e5
/// file's); an empty replacement deletes the code point.
struct CharacterMapNormalizer: TextNormalizer {
    let map: [UInt32: [UInt32]]

    func normalize(_ text: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(text.count)
        text.withUnsafeBufferPointer { p in
            var i = 0
            while i < p.count {
                let (v, n) = decodeScalar(p, i)
                if let m = map[v] {
                    for x in m { appendUTF8(x, to: &out) }
                } else {
                    out.append(contentsOf: p[i..<i + n])
                }
                i += n
            }
        }
        return out
    }
}

/// SentencePiece's default normalization (nmt_nfkc, HF's `Precompiled` map): NFKC, after
/// dropping control characters and turning other whitespace, zero-width characters and ▁ into
/// spaces. Checked against the map the e5 file carries, which differs from NFKC in just these.
struct SentencePieceNormalizer: TextNormalizer {
    static let fixups: [UInt32: [UInt32]] = {
        var m: [UInt32: [UInt32]] = [:]
        for c in Array(1...8) + [11] + Array(14...31) + [0x7F, 0x8F, 0x9F] { m[UInt32(c)] = [] }
        for c in [9, 10, 12, 13, 0x1680, 0x200B, 0x200C, 0x200D, 0x200E, 0x200F, 0x2028, 0x2029, 0x2581, 0xFEFF, 0xFFFD] {
            m[UInt32(c)] = [32]
        }
        return m
    }()
    let fixups = CharacterMapNormalizer(map: SentencePieceNormalizer.fixups)
    let nfkc = UnicodeNormalizer(form: .nfkc)

    func normalize(_ text: [UInt8]) -> [UInt8] { nfkc.normalize(fixups.normalize(text)) }
}
