// InstructionEvaluation: held-out exact match and token F1 of an instruction-tuned causal LM:
// each example's ChatML prompt is continued greedily over the KV cache until <|im_end|> (or the
// tokenizer's eos, or max_new_tokens), the answer is taken from the generated text, and both are
// scored against the example's reference as SQuAD does (AnswerMetrics.swift).

import Foundation
import TesseraIO
import TesseraNN
import TesseraTensor

/// One generated answer and its scores.
public struct InstructionPrediction: Sendable {
    /// the generated text, without the stop token, whitespace trimmed
    public var text: String
    /// what was scored: the text, or the part of it an extraction picked (GSM8K's number)
    public var answer: String
    public var reference: String
    public var exactMatch: Bool
    public var f1: Double
}

/// Which part of the generated text is the answer.
public enum AnswerExtraction: String, Sendable {
    /// the whole text
    case whole
    /// GSM8K's: the text after the last "####", else the last number (gsm8kFinalAnswer)
    case gsm8k

    public func answer(from text: String) -> String {
        switch self {
        case .whole: return text
        case .gsm8k: return gsm8kFinalAnswer(text) ?? ""
        }
    }
}

/// The ids generation stops at: <|im_end|> (ChatML's end of turn) and the tokenizer's eos.
public func chatStopTokens(_ tokenizer: Tokenizer) -> Set<Int> {
    var stop = Set<Int>()
    if let id = tokenizer.tokenToID("<|im_end|>") { stop.insert(id) }
    if let id = tokenizer.specialTokens.eos { stop.insert(id) }
    return stop
}

/// Greedy answers to each example's prompt and their mean exact match and token F1 (0...1).
/// `extract` picks the scored answer from the generated text; `onExample(i, prediction)` sees each
/// prediction as it is made (0-based i) and may stop the evaluation by returning false (the means
/// then cover the examples done).
public func evaluateInstructions(
    model: DecoderForCausalLM, tokenizer: Tokenizer, examples: [InstructionExample], template: ChatTemplate, maxNewTokens: Int,
    extract: (String) throws -> String = { $0 },
    onExample: (Int, InstructionPrediction) throws -> Bool = { _, _ in true }
) throws -> (exactMatch: Double, f1: Double, predictions: [InstructionPrediction]) {
    guard !examples.isEmpty else { throw TensorError("instruct.evaluate", "needs at least one example") }
    let stop = chatStopTokens(tokenizer)
    let options = GenerationOptions(maxNewTokens: maxNewTokens, stopTokens: stop)
    var predictions: [InstructionPrediction] = []
    for (i, e) in examples.enumerated() {
        let prompt = try tokenizer.encode(template.prompt(e), addSpecialTokens: false)
        var ids = try model.generate(prompt, options: options) { _ in
            try Cancellation.check("instruct.evaluate")
            return true
        }
        if let last = ids.last, stop.contains(last) { ids.removeLast() }
        if let bad = ids.first(where: { tokenizer.idToToken($0) == nil }) {
            throw TensorError(
                "instruct.evaluate", "the model generated id \(bad), which the tokenizer does not know (vocabulary size \(tokenizer.vocabularySize))")
        }
        let text = try tokenizer.decode(ids).trimmingCharacters(in: .whitespacesAndNewlines)
        let answer = try extract(text)
        let p = InstructionPrediction(
            text: text, answer: answer, reference: e.reference, exactMatch: answerExactMatch(answer, e.reference),
            f1: answerTokenF1(answer, e.reference))
        predictions.append(p)
        if try !onExample(i, p) { break }
    }
    let n = Double(predictions.count)
    return (
        Double(predictions.filter(\.exactMatch).count) / n, predictions.reduce(0) { $0 + $1.f1 } / n, predictions
    )
}
