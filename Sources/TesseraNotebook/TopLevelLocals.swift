// TopLevelLocals: makes `local` declarations at the top level of an input survive to the next
// input. Each REPL input is its own chunk, so `local m = f()` would vanish when the chunk ends
// (trepl#28); the REPL rewrites top-level `local` statements into assignments of session
// variables, leaving locals inside functions and blocks alone.

enum TopLevelLocals {
    /// `src` with every top-level `local` statement turned into a global assignment:
    /// `local a, b = 1` -> `a, b = 1`; `local x` -> `x = nil`; `local function f` -> `function f`;
    /// attributes (`<const>`, `<close>`) are dropped.
    static func rewrite(_ src: String) -> String {
        let bytes = Array(src.utf8)
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        var lexer = Lexer(bytes)
        var depth = 0
        var last = 0
        while let tok = lexer.next() {
            switch tok.word {
            case "function", "do", "then", "repeat": depth += 1
            case "end", "until": depth = max(0, depth - 1)
            case "elseif": depth = max(0, depth - 1)  // its `then` opens the block again
            default: break
            }
            guard depth == 0, tok.word == "local" else { continue }
            // copy up to the keyword, then rewrite the declaration
            out += bytes[last..<tok.start]
            last = tok.end
            var look = lexer
            guard let next = look.next() else { continue }
            if next.word == "function" {
                // `local function f` -> `function f`: drop `local` and its following blank
                while last < bytes.count && (bytes[last] == 32 || bytes[last] == 9) { last += 1 }
                continue
            }
            // names and attributes up to `=` or the end of the statement
            var names: [String] = []
            var scan = lexer
            var sawAssign = false
            var endOfList = tok.end
            while let t = scan.peek() {
                if t.isName && !Lexer.keywords.contains(t.word) {
                    names.append(t.word)
                    _ = scan.next()
                    endOfList = t.end
                    if scan.peek()?.word == "<" {
                        _ = scan.next(); _ = scan.next()  // < attrib
                        if let close = scan.next() { endOfList = close.end }
                    }
                    if scan.peek()?.word == "," { _ = scan.next(); continue }
                    if scan.peek()?.word == "=" { sawAssign = true }
                    break
                }
                break
            }
            guard !names.isEmpty else { continue }
            let list = names.joined(separator: ", ")
            out += Array(" \(list)\(sawAssign ? "" : " = nil")".utf8)
            last = endOfList
            lexer = scan
        }
        out += bytes[last...]
        return String(decoding: out, as: UTF8.self)
    }
}

/// Just enough of a Lua lexer to find keywords and names outside strings and comments.
struct Lexer {
    struct Token {
        let word: String
        let start: Int
        let end: Int
        let isName: Bool
    }

    static let keywords: Set<String> = [
        "and", "break", "do", "else", "elseif", "end", "false", "for", "function", "goto", "if", "in",
        "local", "nil", "not", "or", "repeat", "return", "then", "true", "until", "while",
    ]

    let s: [UInt8]
    var i = 0

    init(_ s: [UInt8]) { self.s = s }

    func peek() -> Token? {
        var copy = self
        return copy.next()
    }

    /// the next name, keyword or symbol, skipping white space, comments, strings and numbers
    mutating func next() -> Token? {
        while i < s.count {
            let c = s[i]
            if c == 32 || c == 9 || c == 10 || c == 13 { i += 1; continue }
            if c == UInt8(ascii: "-") && i + 1 < s.count && s[i + 1] == UInt8(ascii: "-") {
                i += 2
                if let level = longBracket(at: i) { skipLong(level); continue }
                while i < s.count && s[i] != 10 { i += 1 }
                continue
            }
            if c == UInt8(ascii: "\"") || c == UInt8(ascii: "'") { skipQuoted(c); continue }
            if c == UInt8(ascii: "["), let level = longBracket(at: i) { skipLong(level); continue }
            if isNameStart(c) {
                let start = i
                while i < s.count && (isNameStart(s[i]) || isDigit(s[i])) { i += 1 }
                return Token(word: String(decoding: s[start..<i], as: UTF8.self), start: start, end: i, isName: true)
            }
            if isDigit(c) || (c == UInt8(ascii: ".") && i + 1 < s.count && isDigit(s[i + 1])) {
                while i < s.count
                    && (isNameStart(s[i]) || isDigit(s[i]) || s[i] == UInt8(ascii: ".")
                        || ((s[i] == UInt8(ascii: "+") || s[i] == UInt8(ascii: "-")) && "eEpP".utf8.contains(s[i - 1])))
                { i += 1 }
                continue
            }
            let start = i
            i += 1
            return Token(word: String(decoding: s[start..<i], as: UTF8.self), start: start, end: i, isName: false)
        }
        return nil
    }

    private func isNameStart(_ c: UInt8) -> Bool { (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c == 95 || c >= 128 }
    private func isDigit(_ c: UInt8) -> Bool { c >= 48 && c <= 57 }

    /// level of a long bracket `[==[` starting at j, or nil
    private func longBracket(at j: Int) -> Int? {
        guard j < s.count, s[j] == UInt8(ascii: "[") else { return nil }
        var k = j + 1, level = 0
        while k < s.count && s[k] == UInt8(ascii: "=") { level += 1; k += 1 }
        return k < s.count && s[k] == UInt8(ascii: "[") ? level : nil
    }

    private mutating func skipLong(_ level: Int) {
        let close = [UInt8(ascii: "]")] + Array(repeating: UInt8(ascii: "="), count: level) + [UInt8(ascii: "]")]
        i += level + 2
        while i < s.count {
            if s[i] == UInt8(ascii: "]") && i + close.count <= s.count && Array(s[i..<(i + close.count)]) == close {
                i += close.count
                return
            }
            i += 1
        }
    }

    private mutating func skipQuoted(_ q: UInt8) {
        i += 1
        while i < s.count && s[i] != q && s[i] != 10 {
            if s[i] == UInt8(ascii: "\\") { i += 1 }
            i += 1
        }
        i += 1
    }
}
