// NamePattern: globs over dotted tensor names (`*` any run of characters, dots included; `?` one
// character). A pattern selects a name when it matches the whole name or a module path that the
// name lies under, so `encoder.layer.0` selects `encoder.layer.0.ffn.up.weight`.

public struct NamePattern: Sendable, CustomStringConvertible {
    public let pattern: String
    private let chars: [Character]

    public init(_ pattern: String) {
        self.pattern = pattern
        self.chars = Array(pattern)
    }

    public var description: String { pattern }

    /// Whether the pattern selects `name` (itself or a module path it lies under).
    public func selects(_ name: String) -> Bool {
        let n = Array(name)
        if globMatch(chars, n[...]) { return true }
        for (i, c) in n.enumerated() where c == "." && globMatch(chars, n[..<i]) { return true }
        return false
    }
}

/// Whole-string glob match, iterative with one backtrack point (linear for typical patterns).
func globMatch(_ p: [Character], _ s: ArraySlice<Character>) -> Bool {
    let s = Array(s)
    var pi = 0, si = 0
    var star = -1, mark = 0
    while si < s.count {
        if pi < p.count && (p[pi] == "?" || p[pi] == s[si]) {
            pi += 1; si += 1
        } else if pi < p.count && p[pi] == "*" {
            star = pi; mark = si; pi += 1
        } else if star >= 0 {
            pi = star + 1; mark += 1; si = mark
        } else {
            return false
        }
    }
    while pi < p.count && p[pi] == "*" { pi += 1 }
    return pi == p.count
}
