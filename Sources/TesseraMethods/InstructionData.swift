// InstructionData: instruction tuning's data side: {instruction, input, output} examples, the
// ChatML template SmolLM2 was tuned with, batches whose labels keep only the response tokens
// (every prompt and padding position is -100, cross-entropy's ignore index), and a builder of
// real instructions from WordNet's glosses ("What does 'bank' mean in: …?" → the gloss).

import Foundation
import TesseraIO
import TesseraTensor

public struct InstructionExample: Sendable, Equatable {
    public var instruction: String
    public var input: String
    public var output: String

    public init(instruction: String, input: String = "", output: String) {
        (self.instruction, self.input, self.output) = (instruction, input, output)
    }
}

/// ChatML: `<|im_start|>role\ntext<|im_end|>\n` turns, the prompt ending at the assistant's header.
public struct ChatTemplate: Sendable {
    public var system: String?

    public init(system: String? = nil) { self.system = system }

    /// the text before the response (user turn: instruction, a blank line and the input if any)
    public func prompt(_ e: InstructionExample) -> String {
        var s = system.map { "<|im_start|>system\n\($0)<|im_end|>\n" } ?? ""
        let user = e.input.isEmpty ? e.instruction : e.instruction + "\n\n" + e.input
        s += "<|im_start|>user\n\(user)<|im_end|>\n<|im_start|>assistant\n"
        return s
    }

    /// the response as trained: the output and the end-of-turn marker
    public func response(_ e: InstructionExample) -> String { e.output + "<|im_end|>" }
}

/// Token ids (B, T) and labels (B, T) padded to the longest sequence (at most maxLength, cut from
/// the end): labels are the ids on response tokens and -100 elsewhere, so the loss of
/// logits[:, :-1] against labels[:, 1:] counts only the response.
public func instructionBatch(
    _ examples: [InstructionExample], template: ChatTemplate, tokenizer: Tokenizer, maxLength: Int, padID: Int
) throws -> (ids: Tensor, labels: Tensor, responseTokens: Int) {
    guard !examples.isEmpty, maxLength >= 2 else { throw TensorError("instruct.batch", "needs examples and max_length >= 2") }
    var rows: [([Int64], [Int64])] = []
    for e in examples {
        let p = try tokenizer.encode(template.prompt(e), addSpecialTokens: false)
        let r = try tokenizer.encode(template.response(e), addSpecialTokens: false)
        var ids = (p + r).map { Int64($0) }
        var labels = [Int64](repeating: -100, count: p.count) + r.map { Int64($0) }
        if ids.count > maxLength {
            ids = Array(ids.prefix(maxLength))
            labels = Array(labels.prefix(maxLength))
        }
        rows.append((ids, labels))
    }
    let t = rows.map { $0.0.count }.max() ?? 0
    var ids: [Int64] = [], labels: [Int64] = []
    var count = 0
    for (i, l) in rows {
        ids += i + [Int64](repeating: Int64(padID), count: t - i.count)
        labels += l + [Int64](repeating: -100, count: t - l.count)
        count += l.filter { $0 != -100 }.count
    }
    return (try Tensor.from(ids, shape: [rows.count, t]), try Tensor.from(labels, shape: [rows.count, t]), count)
}

/// Reads JSONL lines with instruction / input / output (Alpaca and Self-Instruct's seed tasks,
/// whose `instances` list of {input, output} is expanded), skipping lines without them.
public func readInstructionJSONL(_ path: String) throws -> [InstructionExample] {
    guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { throw TensorError("instruct.read", "cannot read \(path)") }
    var out: [InstructionExample] = []
    for line in text.split(separator: "\n") where !line.trimmingCharacters(in: .whitespaces).isEmpty {
        guard let obj = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
            let instruction = obj["instruction"] as? String
        else { continue }
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
    // a seeded shuffle, then the first `count`
    let g = Generator(seed: seed)
    for i in stride(from: out.count - 1, to: 0, by: -1) { out.swapAt(i, Int(g.nextInt(below: UInt64(i + 1)))) }
    return Array(out.prefix(max(0, count)))
}
