// Decoders: tokens back to text (HF `decoder`): WordPiece's "##" joining with its clean-up,
// Metaspace's ▁ to spaces, byte-level characters to bytes, byte fallback's <0xXX>, and the
// Replace / Strip / Fuse steps SentencePiece-style tokenizers chain.

protocol TokenDecoder: Sendable {
    func decodeChain(_ tokens: [String]) -> [String]
}

struct WordPieceDecoder: TokenDecoder {
    var prefix = "##"
    var cleanup = true

    func decodeChain(_ tokens: [String]) -> [String] {
        tokens.enumerated().map { i, token in
            var t = token
            if i != 0 { t = t.hasPrefix(prefix) ? String(t.dropFirst(prefix.count)) : " " + t }
            return cleanup ? cleanUpTokenization(t) : t
        }
    }
}

/// BERT's clean-up of spaces before punctuation and in English contractions.
func cleanUpTokenization(_ s: String) -> String {
    var s = s
    for (a, b) in [
        (" .", "."), (" ?", "?"), (" !", "!"), (" ,", ","), (" ' ", "'"), (" n't", "n't"), (" 'm", "'m"), (" do not", " don't"),
        (" 's", "'s"), (" 've", "'ve"), (" 're", "'re"),
    ] where s.contains(a) {
        s = stringFromUTF8(replaceAll(Array(s.utf8), Array(a.utf8), Array(b.utf8)))
    }
    return s
}

struct MetaspaceDecoder: TokenDecoder {
    var replacement: Character = "\u{2581}"
    var prependScheme = MetaspacePreTokenizer.PrependScheme.always

    func decodeChain(_ tokens: [String]) -> [String] {
        tokens.enumerated().map { i, token in
            var out = ""
            for c in token.unicodeScalars {
                if Character(c) == replacement {
                    if i == 0 && prependScheme != .never { continue }
                    out.append(" ")
                } else {
                    out.unicodeScalars.append(c)
                }
            }
            return out
        }
    }
}

struct ByteLevelDecoder: TokenDecoder {
    func decodeChain(_ tokens: [String]) -> [String] {
        var bytes: [UInt8] = []
        for t in tokens { bytes.append(contentsOf: byteLevelDecode(t) ?? Array(t.utf8)) }
        return [stringFromUTF8(bytes)]
    }
}

struct ByteFallbackDecoder: TokenDecoder {
    func decodeChain(_ tokens: [String]) -> [String] {
        var out: [String] = []
        var pending: [UInt8] = []
        func flush() {
            guard !pending.isEmpty else { return }
            if let s = String(validating: pending, as: UTF8.self) {
                out.append(s)
            } else {
                out.append(contentsOf: Array(repeating: "\u{FFFD}", count: pending.count))
            }
            pending.removeAll()
        }
        for t in tokens {
            let u = Array(t.utf8)
            if u.count == 6 && t.hasPrefix("<0x") && u[5] == 62, let b = UInt8(stringFromUTF8(u[3..<5]), radix: 16) {
                pending.append(b)
            } else {
                flush()
                out.append(t)
            }
        }
        flush()
        return out
    }
}

struct FuseDecoder: TokenDecoder {
    func decodeChain(_ tokens: [String]) -> [String] { [tokens.joined()] }
}

struct ReplaceDecoder: TokenDecoder {
    let pattern: String
    let content: String
    func decodeChain(_ tokens: [String]) -> [String] {
        tokens.map { stringFromUTF8(replaceAll(Array($0.utf8), Array(pattern.utf8), Array(content.utf8))) }
    }
}

/// Removes up to `start` leading and `stop` trailing copies of a character from each token.
struct StripDecoder: TokenDecoder {
    let content: Character
    let start: Int
    let stop: Int

    func decodeChain(_ tokens: [String]) -> [String] {
        tokens.map { token in
            var chars = Array(token)
            var cut = 0
            while cut < min(start, chars.count) && chars[cut] == content { cut += 1 }
            chars.removeFirst(cut)
            var removed = 0
            while removed < stop, let last = chars.last, last == content {
                chars.removeLast()
                removed += 1
            }
            return String(chars)
        }
    }
}

struct SequenceDecoder: TokenDecoder {
    let decoders: [any TokenDecoder]
    func decodeChain(_ tokens: [String]) -> [String] { decoders.reduce(tokens) { $1.decodeChain($0) } }
}
