// MaskedLanguageModelingTests: BERT's 15% / 80-10-10 masking on a large batch (proportions within
// tolerance), special tokens and padding never chosen, labels -100 elsewhere, the same seed
// giving the same batch, and padding variable-length sequences.

import Testing
@testable import TesseraTensor
@testable import TesseraNN

@Suite struct MaskedLanguageModelingTests {
    let vocabulary = 1000
    let specials: Set<Int> = [0, 1, 2, 3]  // pad, cls, sep, mask

    /// (200, 500) ids: [CLS] random tokens [SEP] then padding over the last 50 columns of odd rows
    func batch(seed: UInt64) throws -> (ids: Tensor, mask: Tensor) {
        let g = Generator(seed: seed)
        var ids: [Int64] = [], mask: [Int64] = []
        for row in 0..<200 {
            let length = row % 2 == 0 ? 500 : 450
            for col in 0..<500 {
                let id: Int64 = col == 0 ? 1 : col == length - 1 ? 2 : col >= length ? 0 : Int64(4 + g.nextInt(below: UInt64(vocabulary - 4)))
                ids.append(id)
                mask.append(col < length ? 1 : 0)
            }
        }
        return (try i64(ids, [200, 500]), try i64(mask, [200, 500]))
    }

    @Test func proportionsSpecialsAndLabels() throws {
        let (ids, mask) = try batch(seed: 1)
        let masking = try TokenMasking(maskTokenID: 3, vocabularySize: vocabulary, specialTokenIDs: specials)
        let (inputs, labels) = try masking.apply(ids, attentionMask: mask, generator: Generator(seed: 7))
        #expect(inputs.dtype == .i64 && labels.dtype == .i64 && inputs.shape == [200, 500])
        let (x, y, original) = (try inputs.toArray(Int64.self), try labels.toArray(Int64.self), try ids.toArray(Int64.self))
        var eligible = 0, chosen = 0, masked = 0, kept = 0
        for i in original.indices {
            let special = specials.contains(Int(original[i]))
            if !special { eligible += 1 }
            if y[i] == -100 {
                #expect(x[i] == original[i], "an unchosen position keeps its token")
                continue
            }
            #expect(!special, "special tokens and padding are never chosen")
            #expect(y[i] == original[i], "the label is the original token")
            chosen += 1
            if x[i] == 3 { masked += 1 } else if x[i] == original[i] { kept += 1 }
        }
        // 99,200 eligible tokens: binomial sd of the rate ≈ 0.0011, of the fractions ≈ 0.003
        let rate = Double(chosen) / Double(eligible)
        #expect(abs(rate - 0.15) < 0.006, "chosen rate \(rate)")
        let maskShare = Double(masked) / Double(chosen), keptShare = Double(kept) / Double(chosen)
        let randomShare = 1 - maskShare - keptShare
        #expect(abs(maskShare - 0.8) < 0.015, "masked share \(maskShare)")
        // a random token equals the original with probability 1/1000: kept ≈ 0.1001
        #expect(abs(keptShare - 0.1) < 0.012, "kept share \(keptShare)")
        #expect(abs(randomShare - 0.1) < 0.012, "random share \(randomShare)")
    }

    @Test func sameSeedSameBatch() throws {
        let (ids, mask) = try batch(seed: 2)
        let masking = try TokenMasking(maskTokenID: 3, vocabularySize: vocabulary, specialTokenIDs: specials)
        let a = try masking.apply(ids, attentionMask: mask, generator: Generator(seed: 11))
        let b = try masking.apply(ids, attentionMask: mask, generator: Generator(seed: 11))
        let c = try masking.apply(ids, attentionMask: mask, generator: Generator(seed: 12))
        #expect(try a.inputs.toArray(Int64.self) == b.inputs.toArray(Int64.self))
        #expect(try a.labels.toArray(Int64.self) == b.labels.toArray(Int64.self))
        #expect(try a.labels.toArray(Int64.self) != c.labels.toArray(Int64.self))
    }

    @Test func paddingPositionsAreNeverChosen() throws {
        // token 500 is not special: only the attention mask keeps the padded half out
        let ids = try i64([Int64](repeating: 500, count: 2000), [4, 500])
        let mask = try i64((0..<2000).map { $0 % 500 < 250 ? 1 : 0 }, [4, 500])
        let masking = try TokenMasking(maskTokenID: 3, vocabularySize: vocabulary, specialTokenIDs: [], probability: 1)
        let labels = try masking.apply(ids, attentionMask: mask, generator: Generator(seed: 3)).labels.toArray(Int64.self)
        #expect(labels.indices.allSatisfy { ($0 % 500 < 250) == (labels[$0] == 500) })
    }

    @Test func badSettings() {
        expectTensorError("mask_tokens") { try TokenMasking(maskTokenID: 10, vocabularySize: 10, specialTokenIDs: []) }
        expectTensorError("mask_tokens") { try TokenMasking(maskTokenID: 1, vocabularySize: 10, specialTokenIDs: [], probability: 1.5) }
        expectTensorError("mask_tokens") {
            try TokenMasking(maskTokenID: 1, vocabularySize: 10, specialTokenIDs: []).apply(try f32([1, 2], [1, 2]))
        }
    }

    @Test func padSequencesToTheLongest() throws {
        let (ids, mask) = try padSequences([[5, 6, 7], [8], [9, 10]], padID: 0)
        expectTensor(ids, [3, 3], [5, 6, 7, 8, 0, 0, 9, 10, 0])
        expectTensor(mask, [3, 3], [1, 1, 1, 1, 0, 0, 1, 1, 0])
        #expect(ids.dtype == .i64 && mask.dtype == .i64)
        let (cut, _) = try padSequences([[1, 2, 3, 4], [5]], padID: 9, maxLength: 2)
        expectTensor(cut, [2, 2], [1, 2, 5, 9])
        expectTensorError("pad_sequences") { try padSequences([], padID: 0) }
        expectTensorError("pad_sequences") { try padSequences([[], []], padID: 0) }
    }
}
