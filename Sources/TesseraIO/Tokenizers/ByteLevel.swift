// ByteLevel: GPT-2's byte-to-unicode map (every byte a printable character, so byte-level BPE
// vocabularies are strings), its pre-tokenizer (optional prefix space, the GPT-2 regex split,
// bytes mapped to characters) and its decoder (characters back to bytes).

/// The character GPT-2 uses for each byte: printable Latin-1 bytes stand for themselves, the
/// others are numbered from U+0100 on.
let byteToUnicode: [UInt32] = {
    var printable = Array(33...126) + Array(161...172) + Array(174...255)
    var chars = printable.map(UInt32.init)
    var next: UInt32 = 256
    for b in 0..<256 where !printable.contains(b) {
        printable.append(b)
        chars.append(next)
        next += 1
    }
    var table = [UInt32](repeating: 0, count: 256)
    for (b, c) in zip(printable, chars) { table[b] = c }
    return table
}()

/// The byte each byte-level character stands for.
let unicodeToByte: [UInt32: UInt8] = Dictionary(uniqueKeysWithValues: byteToUnicode.enumerated().map { ($1, UInt8($0)) })

/// UTF-8 of each byte's character, for mapping a word in one pass.
let byteLevelUTF8: [[UInt8]] = byteToUnicode.map { v in
    var out: [UInt8] = []
    appendUTF8(v, to: &out)
    return out
}

/// Raw bytes of a byte-level string, or nil if a character is not in the map.
func byteLevelDecode(_ token: String) -> [UInt8]? {
    var out: [UInt8] = []
    for s in token.unicodeScalars {
        guard let b = unicodeToByte[s.value] else { return nil }
        out.append(b)
    }
    return out
}

/// HF ByteLevel pre-tokenizer: a space before each word that lacks one (add_prefix_space), the
/// GPT-2 split (use_regex), then every byte written as its character.
struct ByteLevelPreTokenizer: PreTokenizer {
    let addPrefixSpace: Bool
    let useRegex: Bool
    static let scanner = PatternScanner(pattern: PatternScanner.gpt2)!

    func split(_ words: inout Words) {
        var pieces: [[UInt8]] = []
        for r in words.ranges {
            var word = Array(words.bytes[r])
            if addPrefixSpace && word.first != 32 { word.insert(32, at: 0) }
            if useRegex {
                word.withUnsafeBufferPointer { p in
                    ByteLevelPreTokenizer.scanner.scan(p, 0..<p.count) { pieces.append(Array(p[$0])) }
                }
            } else {
                pieces.append(word)
            }
        }
        var bytes: [UInt8] = []
        var ranges: [Range<Int>] = []
        bytes.reserveCapacity(words.bytes.count * 2)
        for piece in pieces {
            let start = bytes.count
            for b in piece { bytes.append(contentsOf: byteLevelUTF8[Int(b)]) }
            ranges.append(start..<bytes.count)
        }
        words.bytes = bytes
        words.ranges = ranges
    }
}
