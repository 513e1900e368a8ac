// InstructionData: instruction tuning's data side: {instruction, input, output} examples, the
// ChatML template SmolLM2 was tuned with, and batches whose labels keep only the response tokens
// (every prompt and padding position is -100, cross-entropy's ignore index), padded per example
// or packed several examples to a row. Where examples come from: InstructionSources.swift.

import Foundation
import TesseraIO
import TesseraTensor

public struct InstructionExample: Sendable, Equatable {
    public var instruction: String
    public var input: String
    public var output: String
    /// the exact-match target when it is not the whole output (GSM8K: the number after "####")
    public var answer: String?

    public init(instruction: String, input: String = "", output: String, answer: String? = nil) {
        (self.instruction, self.input, self.output, self.answer) = (instruction, input, output, answer)
    }

    /// what an evaluation compares a generated answer with
    public var reference: String { answer ?? output }
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

/// One example's token ids and labels: prompt then response (with <|im_end|>), the labels -100
/// on the prompt, at most maxLength tokens (cut from the end).
func tokenizedExample(
    _ e: InstructionExample, template: ChatTemplate, tokenizer: Tokenizer, maxLength: Int
) throws -> (ids: [Int64], labels: [Int64]) {
    let p = try tokenizer.encode(template.prompt(e), addSpecialTokens: false)
    let r = try tokenizer.encode(template.response(e), addSpecialTokens: false)
    let ids = (p + r).map { Int64($0) }
    let labels = [Int64](repeating: -100, count: p.count) + r.map { Int64($0) }
    return (Array(ids.prefix(maxLength)), Array(labels.prefix(maxLength)))
}

/// Token ids (B, T) and labels (B, T) padded to the longest sequence (at most maxLength, cut from
/// the end): labels are the ids on response tokens and -100 elsewhere, so the loss of
/// logits[:, :-1] against labels[:, 1:] counts only the response.
public func instructionBatch(
    _ examples: [InstructionExample], template: ChatTemplate, tokenizer: Tokenizer, maxLength: Int, padID: Int
) throws -> (ids: Tensor, labels: Tensor, responseTokens: Int) {
    guard !examples.isEmpty, maxLength >= 2 else { throw TensorError("instruct.batch", "needs examples and max_length >= 2") }
    let rows = try examples.map { try tokenizedExample($0, template: template, tokenizer: tokenizer, maxLength: maxLength) }
    return try paddedRows(rows, length: rows.map { $0.ids.count }.max() ?? 0, padID: padID)
}

/// Examples packed into rows of exactly `length` tokens, as Hugging Face's simple packing: each
/// example (cut to `length`) goes whole into the first row with room for it, rows are padded at
/// the end. There is no block-diagonal attention mask and positions run on across a row, so an
/// example attends to the ones before it in its row; what keeps examples apart is the loss:
/// prompts are -100, and so is each example's first token, so no token is predicted from the
/// previous example.
public func instructionPackedBatch(
    _ examples: [InstructionExample], template: ChatTemplate, tokenizer: Tokenizer, length: Int, padID: Int
) throws -> (ids: Tensor, labels: Tensor, responseTokens: Int) {
    guard !examples.isEmpty, length >= 2 else { throw TensorError("instruct.batch", "needs examples and max_length >= 2") }
    var rows: [(ids: [Int64], labels: [Int64])] = []
    for e in examples {
        var x = try tokenizedExample(e, template: template, tokenizer: tokenizer, maxLength: length)
        guard !x.ids.isEmpty else { continue }
        x.labels[0] = -100
        if let r = rows.firstIndex(where: { $0.ids.count + x.ids.count <= length }) {
            rows[r].ids += x.ids
            rows[r].labels += x.labels
        } else {
            rows.append(x)
        }
    }
    guard !rows.isEmpty else { throw TensorError("instruct.batch", "every example tokenized to nothing") }
    return try paddedRows(rows, length: length, padID: padID)
}

/// rows padded to `length` (ids with padID, labels with -100) as (B, length) tensors, and the
/// number of labelled tokens
private func paddedRows(_ rows: [(ids: [Int64], labels: [Int64])], length t: Int, padID: Int) throws -> (
    ids: Tensor, labels: Tensor, responseTokens: Int
) {
    var ids: [Int64] = [], labels: [Int64] = []
    var count = 0
    for (i, l) in rows {
        ids += i + [Int64](repeating: Int64(padID), count: t - i.count)
        labels += l + [Int64](repeating: -100, count: t - l.count)
        count += l.filter { $0 != -100 }.count
    }
    return (try Tensor.from(ids, shape: [rows.count, t]), try Tensor.from(labels, shape: [rows.count, t]), count)
}
