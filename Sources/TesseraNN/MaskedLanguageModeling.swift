// MaskedLanguageModeling: the inputs and labels of BERT-style masked language modelling (Hugging
// Face's DataCollatorForLanguageModeling), and padding a batch of variable-length sequences.

import TesseraTensor

/// How tokens are chosen and corrupted for masked language modelling. Each position that is
/// neither a special token nor padding is chosen with `probability`; a chosen token becomes
/// `maskTokenID` with probability `maskFraction`, a random token with probability
/// `randomFraction`, and stays as it is otherwise (80 / 10 / 10 in BERT).
public struct TokenMasking {
    public var maskTokenID: Int
    /// random replacements are drawn uniformly from 0..<vocabularySize, special tokens included,
    /// as Hugging Face's collator does (torch.randint(len(tokenizer)))
    public var vocabularySize: Int
    /// never chosen: [CLS], [SEP], [PAD], <s>, </s>, ...
    public var specialTokenIDs: Set<Int>
    public var probability: Double
    public var maskFraction: Double
    public var randomFraction: Double

    public init(
        maskTokenID: Int, vocabularySize: Int, specialTokenIDs: Set<Int>, probability: Double = 0.15,
        maskFraction: Double = 0.8, randomFraction: Double = 0.1
    ) throws {
        guard vocabularySize > 0, (0..<vocabularySize).contains(maskTokenID) else {
            throw TensorError("mask_tokens", "mask id \(maskTokenID) is outside the vocabulary of \(vocabularySize) tokens")
        }
        guard (0...1).contains(probability) else {
            throw TensorError("mask_tokens", "probability must lie in [0, 1], got \(probability)")
        }
        guard maskFraction >= 0, randomFraction >= 0, maskFraction + randomFraction <= 1 else {
            throw TensorError(
                "mask_tokens", "mask and random fractions must be non-negative and sum to at most 1, got \(maskFraction) and \(randomFraction)")
        }
        self.maskTokenID = maskTokenID
        self.vocabularySize = vocabularySize
        self.specialTokenIDs = specialTokenIDs
        self.probability = probability
        self.maskFraction = maskFraction
        self.randomFraction = randomFraction
    }

    /// Corrupted inputs and their labels: the original id at chosen positions, -100 (ignored by
    /// cross-entropy) elsewhere. Draws come from `generator` in row-major order, one per
    /// eligible position and, for a chosen one, one for its fate and one for a random token.
    /// ids (B, T) integer, attentionMask (B, T) (0 = padding) -> inputs (B, T) i64, labels (B, T) i64
    public func apply(
        _ ids: Tensor, attentionMask: Tensor? = nil,
        generator: Generator = .shared
    ) throws -> (inputs: Tensor, labels: Tensor) {
        try checkTokenInputs(ids, [("attention_mask", attentionMask)], op: "mask_tokens")
        let tokens = ids.toDoubles().map { Int($0) }
        let attends = attentionMask?.toDoubles().map { $0 != 0 } ?? Array(repeating: true, count: tokens.count)
        var inputs = tokens.map { Int64($0) }
        var labels = [Int64](repeating: Int64(ignoredLabel), count: tokens.count)
        for (i, token) in tokens.enumerated() where attends[i] && !specialTokenIDs.contains(token) {
            guard generator.nextDouble() < probability else { continue }
            labels[i] = Int64(token)
            let fate = generator.nextDouble()
            if fate < maskFraction {
                inputs[i] = Int64(maskTokenID)
            } else if fate < maskFraction + randomFraction {
                inputs[i] = Int64(generator.nextInt(below: UInt64(vocabularySize)))
            }
        }
        return (try Tensor.from(inputs, shape: ids.shape), try Tensor.from(labels, shape: ids.shape))
    }
}

/// Pads sequences of token ids on the right to the longest one (or cuts them at `maxLength`).
/// sequences [[id]] -> ids (B, T) i64 with `padID` after each sequence, attention mask (B, T)
/// i64, 1 on real tokens and 0 on padding
public func padSequences(_ sequences: [[Int]], padID: Int, maxLength: Int? = nil) throws -> (ids: Tensor, attentionMask: Tensor) {
    guard !sequences.isEmpty else { throw TensorError("pad_sequences", "no sequences to pad") }
    if let maxLength, maxLength < 1 { throw TensorError("pad_sequences", "max length must be positive, got \(maxLength)") }
    let longest = sequences.map(\.count).max()!
    let width = min(longest, maxLength ?? longest)
    guard width > 0 else { throw TensorError("pad_sequences", "every sequence is empty") }
    var ids = [Int64](repeating: Int64(padID), count: sequences.count * width)
    var mask = [Int64](repeating: 0, count: sequences.count * width)
    for (row, sequence) in sequences.enumerated() {
        for (col, id) in sequence.prefix(width).enumerated() {
            ids[row * width + col] = Int64(id)
            mask[row * width + col] = 1
        }
    }
    let shape = [sequences.count, width]
    return (try Tensor.from(ids, shape: shape), try Tensor.from(mask, shape: shape))
}
