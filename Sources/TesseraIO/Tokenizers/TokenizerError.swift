// TokenizerError: what goes wrong when loading or using a tokenizer (malformed files, unsupported
// components, ids outside the vocabulary). Every failure caused by input is one of these.

public enum TokenizerError: Error, CustomStringConvertible, Equatable {
    /// a tokenizer file or array that cannot be read: the file and what is wrong
    case malformed(String)
    /// a component (normalizer, pre-tokenizer, model ...) Tessera does not implement
    case unsupported(String)
    /// an id, option or text the tokenizer cannot handle
    case invalidArgument(String)

    public var description: String {
        switch self {
        case .malformed(let m): return "malformed tokenizer: \(m)"
        case .unsupported(let m): return "unsupported tokenizer component: \(m)"
        case .invalidArgument(let m): return m
        }
    }
}
