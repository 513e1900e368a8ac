// PostProcessor: the special tokens wrapped around an encoded text (HF `post_processor`):
// [CLS] ... [SEP] for BERT, <s> ... </s> for XLM-R/RoBERTa, a BOS for LLaMA-style templates,
// nothing for GPT-2's ByteLevel.

public struct PostProcessor: Sendable, Equatable {
    /// ids before and after the text (a template's special tokens, in order)
    public var prefix: [Int]
    public var suffix: [Int]

    public init(prefix: [Int] = [], suffix: [Int] = []) {
        self.prefix = prefix
        self.suffix = suffix
    }

    public static let none = PostProcessor()

    /// number of ids added around a text
    public var addedCount: Int { prefix.count + suffix.count }

    func apply(_ ids: [Int32]) -> [Int32] {
        if addedCount == 0 { return ids }
        return prefix.map(Int32.init) + ids + suffix.map(Int32.init)
    }
}
