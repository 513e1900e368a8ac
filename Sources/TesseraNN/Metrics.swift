// Metrics: the evaluation numbers of the methods' papers: accuracy and macro-F1 over class ids
// (text classification, NLI), entity-level F1 over BIO tags (NER, as seqeval and conlleval
// score it), and perplexity from a mean cross-entropy (language modelling).

import TesseraTensor

#if canImport(Glibc)
    import Glibc
#endif

/// gold labels equal to this are padding or sub-word continuations and are not scored (HF)
public let ignoredLabel = -100

/// The (prediction, gold) pairs that count: equal lengths, gold `ignoreIndex` dropped.
func scoredPairs(_ predicted: [Int], _ gold: [Int], ignoreIndex: Int?, op: String) throws -> [(Int, Int)] {
    guard predicted.count == gold.count else {
        throw TensorError(op, "\(predicted.count) predictions but \(gold.count) gold labels")
    }
    return zip(predicted, gold).filter { $0.1 != ignoreIndex }
}

/// Fraction of predictions equal to the gold label; NaN when nothing is scored.
public func accuracy(predicted: [Int], gold: [Int], ignoreIndex: Int? = ignoredLabel) throws -> Double {
    let pairs = try scoredPairs(predicted, gold, ignoreIndex: ignoreIndex, op: "accuracy")
    guard !pairs.isEmpty else { return .nan }
    return Double(pairs.filter { $0.0 == $0.1 }.count) / Double(pairs.count)
}

/// The unweighted mean over classes of each class's F1 (sklearn's f1_score(average="macro")).
/// The classes are those that occur among the predictions or the gold labels, as sklearn's
/// default `labels`: a class absent from both does not pull the mean down. A class that is
/// predicted but never gold (or gold but never predicted) has F1 0 (sklearn's zero_division=0).
/// NaN when nothing is scored.
public func macroF1(predicted: [Int], gold: [Int], ignoreIndex: Int? = ignoredLabel) throws -> Double {
    let pairs = try scoredPairs(predicted, gold, ignoreIndex: ignoreIndex, op: "macro_f1")
    guard !pairs.isEmpty else { return .nan }
    var truePositives: [Int: Int] = [:], predictedCount: [Int: Int] = [:], goldCount: [Int: Int] = [:]
    for (p, g) in pairs {
        predictedCount[p, default: 0] += 1
        goldCount[g, default: 0] += 1
        if p == g { truePositives[p, default: 0] += 1 }
    }
    let classes = Set(predictedCount.keys).union(goldCount.keys)
    let total = classes.reduce(0.0) { sum, c in
        // F1 = 2·TP / (predicted + gold), which is 0 when TP is 0 and never divides by 0 here
        sum + 2 * Double(truePositives[c] ?? 0) / Double((predictedCount[c] ?? 0) + (goldCount[c] ?? 0))
    }
    return total / Double(classes.count)
}

/// Precision, recall and F1 of predicted entities against gold ones.
public struct SpanScores: Equatable {
    public var precision: Double
    public var recall: Double
    public var f1: Double
    /// entities found in both, in the predictions, in the gold tags
    public var correct: Int
    public var predicted: Int
    public var gold: Int

    init(correct: Int, predicted: Int, gold: Int) {
        (self.correct, self.predicted, self.gold) = (correct, predicted, gold)
        precision = predicted == 0 ? 0 : Double(correct) / Double(predicted)
        recall = gold == 0 ? 0 : Double(correct) / Double(gold)
        f1 = precision + recall == 0 ? 0 : 2 * precision * recall / (precision + recall)
    }
}

/// One entity: its type and the 0-based positions of its first and last token.
public struct TaggedSpan: Hashable {
    public var type: String
    public var start: Int
    public var end: Int
}

/// The entities of one sentence of IOB tags (`B-PER`, `I-PER`, `O`; `E-` and `S-` of IOBES are
/// read too), by seqeval's default (non-strict) rules, which are conlleval's: an entity starts at
/// `B-X`, and also at an `I-X` that does not continue an entity of type X (so `O I-PER` and
/// `B-LOC I-PER` each start a PER entity); it ends before `O`, `B-`, `S-` or a change of type.
public func entitySpans(_ tags: [String]) -> [TaggedSpan] {
    var spans: [TaggedSpan] = []
    var (previousTag, previousType, begin) = ("O", "", 0)
    for (i, label) in (tags + ["O"]).enumerated() {
        let tag = label.first.map(String.init) ?? "O"
        // "B-PER" -> "PER"; a bare "B" or "O" has the type "_", as in seqeval
        let rest = label.dropFirst()
        let type = rest.split(separator: "-", maxSplits: 1, omittingEmptySubsequences: false).last.map(String.init) ?? ""
        let kind = type.isEmpty ? "_" : type
        if endsEntity(previousTag, tag, previousType, kind) {
            spans.append(TaggedSpan(type: previousType, start: begin, end: i - 1))
        }
        if startsEntity(previousTag, tag, previousType, kind) { begin = i }
        (previousTag, previousType) = (tag, kind)
    }
    return spans
}

/// seqeval's end_of_chunk: whether the entity open at the previous token ends before this one
private func endsEntity(_ previousTag: String, _ tag: String, _ previousType: String, _ type: String) -> Bool {
    if previousTag == "E" || previousTag == "S" { return true }
    if (previousTag == "B" || previousTag == "I") && ["B", "S", "O"].contains(tag) { return true }
    return previousTag != "O" && previousTag != "." && previousType != type
}

/// seqeval's start_of_chunk: whether an entity starts at this token
private func startsEntity(_ previousTag: String, _ tag: String, _ previousType: String, _ type: String) -> Bool {
    if tag == "B" || tag == "S" { return true }
    if ["E", "S", "O"].contains(previousTag) && (tag == "E" || tag == "I") { return true }
    return tag != "O" && tag != "." && previousType != type
}

/// Entity-level micro precision, recall and F1 over sentences of tags (seqeval's
/// classification scores in default mode; see `entitySpans`). An entity counts as correct only
/// when its type, start and end all match a gold entity. Scores with no entities are 0.
public func spanF1(predicted: [[String]], gold: [[String]]) throws -> SpanScores {
    guard predicted.count == gold.count else {
        throw TensorError("span_f1", "\(predicted.count) predicted sentences but \(gold.count) gold sentences")
    }
    var correct = 0, predictedCount = 0, goldCount = 0
    for (k, (p, g)) in zip(predicted, gold).enumerated() {
        guard p.count == g.count else {
            throw TensorError("span_f1", "sentence \(k + 1) has \(p.count) predicted tags but \(g.count) gold tags")
        }
        let (ps, gs) = (entitySpans(p), Set(entitySpans(g)))
        correct += ps.filter { gs.contains($0) }.count
        predictedCount += ps.count
        goldCount += gs.count
    }
    return SpanScores(correct: correct, predicted: predictedCount, gold: goldCount)
}

/// exp(mean cross-entropy in nats per token): the perplexity of a language model.
public func perplexity(meanCrossEntropy: Double) -> Double { exp(meanCrossEntropy) }
