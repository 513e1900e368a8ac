// AnswerMetrics: scoring generated answers against references as SQuAD's evaluation script does:
// both are normalised (lowercase, punctuation and the articles a/an/the removed, whitespace
// collapsed), then exact match compares the strings and token F1 the multisets of words.
// Punctuation is every Unicode punctuation character plus ASCII's (MLQA's set), so "¿" and "¡"
// go too. GSM8K's final answer is the text after "####".

import Foundation

/// SQuAD's normalize_answer with MLQA's punctuation: lowercase, punctuation removed, the English
/// articles a/an/the removed, runs of whitespace made one space, no leading or trailing space.
public func normalizeAnswer(_ s: String) -> String {
    var kept = String.UnicodeScalarView()
    for u in s.lowercased().unicodeScalars where !isAnswerPunctuation(u) { kept.append(u) }
    let words = String(kept).split(whereSeparator: { $0.isWhitespace }).filter { $0 != "a" && $0 != "an" && $0 != "the" }
    return words.joined(separator: " ")
}

/// Unicode categories P* and ASCII's punctuation (Python's string.punctuation, symbols included)
private func isAnswerPunctuation(_ u: Unicode.Scalar) -> Bool {
    if u.isASCII { return "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~".unicodeScalars.contains(u) }
    switch u.properties.generalCategory {
    case .connectorPunctuation, .dashPunctuation, .openPunctuation, .closePunctuation, .initialPunctuation, .finalPunctuation,
        .otherPunctuation:
        return true
    default: return false
    }
}

/// Whether the normalised prediction equals the normalised reference.
public func answerExactMatch(_ prediction: String, _ reference: String) -> Bool {
    normalizeAnswer(prediction) == normalizeAnswer(reference)
}

/// SQuAD's token F1: harmonic mean of precision and recall of the normalised words shared
/// (as multisets). 1 when both are empty after normalisation, 0 when only one is.
public func answerTokenF1(_ prediction: String, _ reference: String) -> Double {
    let p = normalizeAnswer(prediction).split(separator: " "), r = normalizeAnswer(reference).split(separator: " ")
    if p.isEmpty || r.isEmpty { return p.isEmpty && r.isEmpty ? 1 : 0 }
    var counts: [Substring: Int] = [:]
    for w in r { counts[w, default: 0] += 1 }
    var common = 0
    for w in p where (counts[w] ?? 0) > 0 {
        counts[w]! -= 1
        common += 1
    }
    guard common > 0 else { return 0 }
    let precision = Double(common) / Double(p.count), recall = Double(common) / Double(r.count)
    return 2 * precision * recall / (precision + recall)
}

/// GSM8K's answer: the text after the last "####" with commas and "$" dropped ("#### 1,000" →
/// "1000"); without "####", the last number in the text (a generated solution may end without
/// one); nil when there is neither. A trailing period is not part of the number.
public func gsm8kFinalAnswer(_ text: String) -> String? {
    if let r = text.range(of: "####", options: .backwards) {
        let tail = text[r.upperBound...].replacingOccurrences(of: ",", with: "").replacingOccurrences(of: "$", with: "")
        let answer = tail.trimmingCharacters(in: .whitespacesAndNewlines)
        let line = answer.split(separator: "\n", maxSplits: 1).first.map(String.init) ?? ""
        let trimmed = line.hasSuffix(".") ? String(line.dropLast()) : line
        return trimmed.trimmingCharacters(in: .whitespaces)
    }
    return lastNumber(in: text.replacingOccurrences(of: ",", with: ""))
}

/// the last run of the form -?digits(.digits)? in s
private func lastNumber(in s: String) -> String? {
    let chars = Array(s)
    guard let last = chars.lastIndex(where: { $0.isASCII && $0.isNumber }) else { return nil }
    var start = last
    while start > 0, chars[start - 1].isASCII && (chars[start - 1].isNumber || chars[start - 1] == ".") { start -= 1 }
    while chars[start] == "." { start += 1 }
    if start > 0, chars[start - 1] == "-" { start -= 1 }
    return String(chars[start...last])
}
