// InstructionSources: where instruction examples come from: JSONL files (Alpaca, Self-Instruct's
// seed tasks, GSM8K) and builders of real instructions from the fetched assets: word senses from
// WordNet's glosses ("What does 'bank' mean in: …?" → the gloss) and translation from bitext
// ("Translate to Spanish: …" → the reference), parallel Bibles verse by verse or any pair list.

import Foundation
import TesseraIO
import TesseraTensor

/// Reads JSONL lines with instruction / input / output (Alpaca), Self-Instruct's seed tasks
/// (whose `instances` list of {input, output} is expanded) and GSM8K's {question, answer} (the
/// question is the instruction, the worked solution the output with its calculator annotations
/// `<<3*4=12>>` removed, and the number after "####" the answer), skipping other lines.
public func readInstructionJSONL(_ path: String) throws -> [InstructionExample] {
    guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { throw TensorError("instruct.read", "cannot read \(path)") }
    var out: [InstructionExample] = []
    for line in text.split(whereSeparator: \.isNewline) where !line.trimmingCharacters(in: .whitespaces).isEmpty {
        guard let obj = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] else { continue }
        if let question = obj["question"] as? String, let solution = obj["answer"] as? String {
            out.append(gsm8kExample(question: question, solution: solution))
            continue
        }
        guard let instruction = obj["instruction"] as? String else { continue }
        if let output = obj["output"] as? String {
            out.append(InstructionExample(instruction: instruction, input: obj["input"] as? String ?? "", output: output))
        } else if let instances = obj["instances"] as? [[String: Any]] {
            for i in instances {
                if let o = i["output"] as? String {
                    out.append(InstructionExample(instruction: instruction, input: i["input"] as? String ?? "", output: o))
                }
            }
        }
    }
    return out
}

/// A GSM8K problem: the solution without `<<…>>` annotations, the answer after its "####".
public func gsm8kExample(question: String, solution: String) -> InstructionExample {
    var output = "", rest = Substring(solution)
    while let open = rest.range(of: "<<"), let close = rest[open.upperBound...].range(of: ">>") {
        output += rest[..<open.lowerBound]
        rest = rest[close.upperBound...]
    }
    output += rest
    return InstructionExample(instruction: question, output: output, answer: gsm8kFinalAnswer(solution) ?? "")
}

/// Word-sense questions from WordNet's data.noun / data.verb / data.adj: for each synset whose
/// gloss quotes an example using one of its words, "What does 'w' mean in: "<example>"?" answered
/// with the definition. Deterministic for a seed; at most `count` examples.
public func wordNetInstructions(directory: String, count: Int, seed: UInt64 = 0) throws -> [InstructionExample] {
    var out: [InstructionExample] = []
    for pos in ["noun", "verb", "adj"] {
        let path = directory + "/data." + pos
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { throw TensorError("instruct.wordnet", "cannot read \(path)") }
        for line in text.split(separator: "\n") where line.first?.isNumber == true {
            guard let bar = line.range(of: " | ") else { continue }
            let fields = line[..<bar.lowerBound].split(separator: " ")
            guard fields.count > 4, let n = Int(fields[3], radix: 16), fields.count >= 4 + 2 * n else { continue }
            let words = (0..<n).map { fields[4 + 2 * $0].replacingOccurrences(of: "_", with: " ").lowercased() }
            let gloss = line[bar.upperBound...]
            let parts = gloss.split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces) }
            guard let definition = parts.first, !definition.hasPrefix("\""), definition.count > 3 else { continue }
            for part in parts.dropFirst() where part.hasPrefix("\"") {
                let example = part.trimmingCharacters(in: CharacterSet(charactersIn: "\" "))
                guard let word = words.first(where: { example.lowercased().contains($0) }) else { continue }
                out.append(
                    InstructionExample(
                        instruction: "What does '\(word)' mean in: \"\(example)\"? Answer with a short definition.", output: definition))
                break
            }
        }
    }
    return seededSample(out, count: count, seed: seed)
}

/// a seeded shuffle (Fisher-Yates), then the first `count`
func seededSample<T>(_ items: [T], count: Int, seed: UInt64) -> [T] {
    var out = items
    let g = Generator(seed: seed)
    for i in stride(from: out.count - 1, to: 0, by: -1) { out.swapAt(i, Int(g.nextInt(below: UInt64(i + 1)))) }
    return Array(out.prefix(max(0, count)))
}

/// "Translate to <language>: <source>" answered by the target, for each (source, target) pair
/// with both sides non-empty and the source at most maxCharacters long; shuffled with the seed,
/// at most `count`.
public func bitextInstructions(
    _ pairs: [(source: String, target: String)], to language: String, count: Int, seed: UInt64 = 0, maxCharacters: Int? = nil
) -> [InstructionExample] {
    let kept = pairs.compactMap { p -> InstructionExample? in
        let (s, t) = (p.source.trimmingCharacters(in: .whitespacesAndNewlines), p.target.trimmingCharacters(in: .whitespacesAndNewlines))
        guard !s.isEmpty, !t.isEmpty, s.count <= maxCharacters ?? Int.max else { return nil }
        return InstructionExample(instruction: "Translate to \(language): \(s)", output: t)
    }
    return seededSample(kept, count: count, seed: seed)
}

/// The first two tab-separated columns of each non-empty line of a TSV file.
public func readBitextTSV(_ path: String) throws -> [(source: String, target: String)] {
    guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { throw TensorError("instruct.bitext", "cannot read \(path)") }
    var out: [(source: String, target: String)] = []
    // "\r\n" is one Character, so splitting on isNewline reads CRLF files too
    for (n, line) in text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline).enumerated() where !line.isEmpty {
        let cols = line.split(separator: "\t", maxSplits: 2, omittingEmptySubsequences: false)
        guard cols.count >= 2 else { throw TensorError("instruct.bitext", "\(path):\(n + 1): expected two tab-separated columns") }
        out.append((String(cols[0]), String(cols[1])))
    }
    return out
}

/// The SWORD modules under `directory` (one folder each, as assets/bible: kjv, sparv) by the
/// language code of their .conf file's `Lang=` line.
public func bibleModules(in directory: String) throws -> [String: String] {
    let fm = FileManager.default
    guard let folders = try? fm.contentsOfDirectory(atPath: directory) else {
        throw TensorError("instruct.bible", "cannot read the folder \(directory)")
    }
    var out: [String: String] = [:]
    for folder in folders.sorted() {
        let path = directory + "/" + folder
        for conf in (try? fm.contentsOfDirectory(atPath: path)) ?? [] where conf.hasSuffix(".conf") {
            guard let text = try? String(contentsOfFile: path + "/" + conf, encoding: .utf8) else { continue }
            for line in text.split(whereSeparator: \.isNewline) where line.hasPrefix("Lang=") {
                let code = line.dropFirst(5).trimmingCharacters(in: .whitespaces)
                if out[code] == nil { out[code] = path }
            }
        }
    }
    return out
}

/// English names of the languages a translation instruction may ask for, by ISO 639 code.
public let languageNames: [String: String] = [
    "en": "English", "es": "Spanish", "de": "German", "fr": "French", "it": "Italian", "pt": "Portuguese", "ru": "Russian",
    "tr": "Turkish", "nl": "Dutch", "pl": "Polish", "cs": "Czech", "fi": "Finnish", "sv": "Swedish", "ar": "Arabic",
    "zh": "Chinese", "ja": "Japanese", "ko": "Korean", "hi": "Hindi", "la": "Latin", "el": "Greek", "grc": "Ancient Greek",
    "he": "Hebrew", "hbo": "Ancient Hebrew",
]

/// Translation instructions from two Bibles under `directory`, aligned verse by verse (the verses
/// both have): direction "en-es" asks for the `es` module's verse given the `en` module's.
public func bibleInstructions(
    directory: String, direction: String, count: Int, seed: UInt64 = 0, maxCharacters: Int? = nil
) throws -> [InstructionExample] {
    let codes = direction.split(separator: "-").map(String.init)
    guard codes.count == 2, codes[0] != codes[1] else {
        throw TensorError("instruct.bible", "direction must be two language codes such as \"en-es\", got \"\(direction)\"")
    }
    let modules = try bibleModules(in: directory)
    guard let source = modules[codes[0]], let target = modules[codes[1]] else {
        let have = modules.keys.sorted().joined(separator: ", ")
        throw TensorError("instruct.bible", "\(directory) has no module for \"\(direction)\" (languages found: \(have.isEmpty ? "none" : have))")
    }
    let pairs = try SwordZText.aligned(source, target).map { (source: $0.source, target: $0.target) }
    return bitextInstructions(pairs, to: languageNames[codes[1]] ?? codes[1], count: count, seed: seed, maxCharacters: maxCharacters)
}
