// Help: one registry of entries (signature, summary, details, runnable example) read by
// `help(...)`, the REPL's `?name`, and the test that runs every example.

public struct HelpEntry {
    /// the name users type: `tensor.randn`, `Tensor:matmul`
    public let name: String
    /// how it is called: `tensor.randn(d1, d2, ... [, {dtype=, requires_grad=}])`
    public let signature: String
    /// one line
    public let summary: String
    /// further paragraphs (may be empty)
    public let details: String
    /// Lua code that runs as is and shows the function at work
    public let example: String

    public init(name: String, signature: String, summary: String, details: String = "", example: String) {
        self.name = name
        self.signature = signature
        self.summary = summary
        self.details = details
        self.example = example
    }

    public var text: String {
        var s = "\(signature)\n  \(summary)\n"
        if !details.isEmpty {
            s += "\n" + details.split(separator: "\n", omittingEmptySubsequences: false).map { "  " + $0 }.joined(separator: "\n") + "\n"
        }
        s += "\nExample:\n" + example.split(separator: "\n", omittingEmptySubsequences: false).map { "  " + $0 }.joined(separator: "\n")
        return s
    }
}

public enum Help {
    nonisolated(unsafe) public private(set) static var entries: [String: HelpEntry] = [:]
    /// library name -> one-paragraph overview, for `help("tensor")`
    nonisolated(unsafe) public private(set) static var topics: [String: String] = [:]

    public static func add(_ e: HelpEntry) { entries[e.name] = e }
    public static func addTopic(_ name: String, _ text: String) { topics[name] = text }

    /// The help text for a name (`tensor.randn`, `randn`, `matmul`, `tensor`), or nil.
    public static func lookup(_ name: String) -> String? {
        if let t = topics[name] {
            let members = entries.keys.filter { $0.hasPrefix(name + ".") || $0.hasPrefix(name + ":") }.sorted()
            return t + "\n\nFunctions:\n" + members.map { "  \($0) - \(entries[$0]!.summary)" }.joined(separator: "\n")
        }
        if let e = entries[name] { return e.text }
        // unqualified: tensor.<name>, then the Tensor method
        for prefix in ["tensor.", "Tensor:"] {
            if let e = entries[prefix + name] { return e.text }
        }
        if name.hasPrefix("Tensor."), let e = entries["Tensor:" + name.dropFirst(7)] { return e.text }
        return nil
    }
}
