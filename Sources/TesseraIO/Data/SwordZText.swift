// SwordZText: the verses of a SWORD Bible module in the zText format (as Debian's sword-text-*
// packages ship them), as plain text with OSIS references, and two modules aligned verse by verse.
//
// Per testament (ot, nt) a module has three files:
//   .bzs  blocks:  (offset u32, compressed size u32, uncompressed size u32) per zlib block in .bzz
//   .bzv  entries: (block u32, offset u32, size u16) per index position, little-endian
//   .bzz  the zlib-compressed blocks
// Index positions follow the versification: 0 and 1 head the module and testament, then per
// book one heading entry and per chapter one heading entry followed by its verses. The entries
// are OSIS markup; a book heading holds <div type="book" sID=..>, a chapter heading <chapter sID=..>,
// which is how references are assigned without a versification table.

import CZlib

#if canImport(Glibc)
    import Glibc
#endif

public struct SwordVerse: Equatable, Sendable {
    /// OSIS reference: "Gen.1.1"
    public var reference: String
    /// the verse as plain text (markup and notes removed; empty when the module lacks the verse)
    public var text: String
}

public enum SwordZText {
    /// Every verse position of the module in `folder` (Old then New Testament), with its text.
    public static func verses(folder: String) throws -> [SwordVerse] {
        var out: [SwordVerse] = []
        for testament in ["ot", "nt"] {
            let entries = try rawEntries(folder: folder, testament: testament)
            var book = "", chapter = 0, verse = 0
            for (i, markup) in entries.enumerated() where i >= 2 {
                if let b = startTag(markup, "div", requiring: "type=\"book\""), let id = attribute(b, "osisID") {
                    (book, chapter, verse) = (id, 0, 0)
                } else if let c = startTag(markup, "chapter", requiring: nil), let n = attribute(c, "n").flatMap({ Int($0) }) {
                    (chapter, verse) = (n, 0)
                } else {
                    guard !book.isEmpty, chapter > 0 else {
                        throw DataError(folder, line: 0, "\(testament) entry \(i) is a verse before any book or chapter heading")
                    }
                    verse += 1
                    out.append(SwordVerse(reference: "\(book).\(chapter).\(verse)", text: plainText(markup)))
                }
            }
        }
        return out
    }

    /// The verses that both modules in folders `a` and `b` have, in a's order: (reference, text a, text b).
    public static func aligned(_ a: String, _ b: String) throws -> [(reference: String, source: String, target: String)] {
        aligned(try verses(folder: a), try verses(folder: b))
    }

    /// The verses with text in both lists, in the order of `a`.
    public static func aligned(_ a: [SwordVerse], _ b: [SwordVerse]) -> [(reference: String, source: String, target: String)] {
        let other = Dictionary(b.map { ($0.reference, $0.text) }, uniquingKeysWith: { x, _ in x })
        return a.compactMap { v in
            guard !v.text.isEmpty, let t = other[v.reference], !t.isEmpty else { return nil }
            return (v.reference, v.text, t)
        }
    }

    /// The markup of every index entry of one testament (empty for an empty entry).
    static func rawEntries(folder: String, testament: String) throws -> [[UInt8]] {
        let base = folder + "/" + testament
        let blocks = try MappedFile(path: base + ".bzs"), index = try MappedFile(path: base + ".bzv")
        let data = try MappedFile(path: base + ".bzz")
        guard blocks.count % 12 == 0, index.count % 10 == 0 else {
            throw DataError(base, line: 0, "index sizes \(blocks.count) (.bzs) and \(index.count) (.bzv) are not whole entries of 12 and 10 bytes")
        }
        var cache: (block: Int, bytes: [UInt8]) = (-1, [])
        var out: [[UInt8]] = []
        out.reserveCapacity(index.count / 10)
        var cursor = ByteCursor(index)
        while cursor.remaining > 0 {
            let block = Int(try cursor.u32("block")), offset = Int(try cursor.u32("offset")), size = Int(try cursor.u16("size"))
            if size == 0 {
                out.append([])
                continue
            }
            if block != cache.block {
                guard block < blocks.count / 12 else {
                    throw DataError(base + ".bzv", line: 0, "entry \(out.count) names block \(block) of \(blocks.count / 12)")
                }
                var b = ByteCursor(blocks, from: block * 12, end: block * 12 + 12)
                let start = Int(try b.u32("offset")), compressed = Int(try b.u32("size")), uncompressed = Int(try b.u32("size"))
                cache = (block, try inflate(try data.bytes(at: start, count: compressed, "block \(block)"), compressed, uncompressed, base + ".bzz"))
            }
            guard offset + size <= cache.bytes.count else {
                throw DataError(base + ".bzv", line: 0, "entry \(out.count) reaches past its block (\(offset)+\(size) > \(cache.bytes.count))")
            }
            out.append(Array(cache.bytes[offset..<(offset + size)]))
        }
        return out
    }

    private static func inflate(_ src: UnsafeRawPointer, _ count: Int, _ expected: Int, _ name: String) throws -> [UInt8] {
        var out = [UInt8](repeating: 0, count: max(expected, 1))
        var length = uLongf(out.count)
        let status = out.withUnsafeMutableBytes { dst in
            uncompress(dst.baseAddress!.assumingMemoryBound(to: Bytef.self), &length, src.assumingMemoryBound(to: Bytef.self), uLong(count))
        }
        guard status == Z_OK else { throw DataError(name, line: 0, "a block does not inflate (zlib status \(status))") }
        out.removeLast(out.count - Int(length))
        return out
    }

    /// The first start tag `<name ...>` in `markup` holding ` sID="` (and `requiring`, if given).
    static func startTag(_ markup: [UInt8], _ name: String, requiring: String?) -> ArraySlice<UInt8>? {
        let open = Array(("<" + name + " ").utf8)
        var from = 0
        while let at = find(open, in: markup[...], from: from) {
            guard let close = markup[at...].firstIndex(of: UInt8(ascii: ">")) else { return nil }
            let tag = markup[at...close]
            if find(Array(" sID=\"".utf8), in: tag) != nil, requiring.map({ find(Array($0.utf8), in: tag) != nil }) ?? true { return tag }
            from = close
        }
        return nil
    }

    static func attribute(_ tag: ArraySlice<UInt8>, _ name: String) -> String? {
        guard let at = find(Array((" " + name + "=\"").utf8), in: tag) else { return nil }
        let value = tag[(at + name.utf8.count + 3)...]
        return value.firstIndex(of: UInt8(ascii: "\"")).map { String(decoding: value[..<$0], as: UTF8.self) }
    }

    /// The position of the first `needle` in `hay` at or after `from` (memchr and memcmp, so
    /// debug builds stay fast).
    static func find(_ needle: [UInt8], in hay: ArraySlice<UInt8>, from: Int? = nil) -> Int? {
        let start = from ?? hay.startIndex
        guard start < hay.endIndex, !needle.isEmpty else { return nil }
        return hay[start...].withUnsafeBytes { h -> Int? in
            needle.withUnsafeBytes { n -> Int? in
                guard let h0 = h.baseAddress, let n0 = n.baseAddress else { return nil }
                var at = 0
                while at + n.count <= h.count, let p = memchr(h0 + at, Int32(n[0]), h.count - n.count + 1 - at) {
                    at = h0.distance(to: UnsafeRawPointer(p))
                    if memcmp(h0 + at, n0, n.count) == 0 { return start + at }
                    at += 1
                }
                return nil
            }
        }
    }

    /// OSIS markup as plain text: tags dropped, notes and non-canonical titles dropped with their
    /// content, entities decoded, white space collapsed.
    static func plainText(_ markup: [UInt8]) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(markup.count)
        var skipping: (name: ArraySlice<UInt8>, depth: Int)?
        var space = true  // the output ends with a space (or is empty): collapse runs
        func append(_ b: UInt8) {
            let isSpace = b == 0x20 || b == 0x0A || b == 0x09 || b == 0x0D
            if isSpace { if !space { out.append(0x20) } } else { out.append(b) }
            space = isSpace
        }
        var i = 0
        while i < markup.count {
            let c = markup[i]
            guard c == UInt8(ascii: "<"), let close = markup[i...].firstIndex(of: UInt8(ascii: ">")) else {
                if skipping == nil { append(c) }
                i += 1
                continue
            }
            let tag = markup[(i + 1)..<close]
            let closing = tag.first == UInt8(ascii: "/"), selfClosing = tag.last == UInt8(ascii: "/")
            let body = closing ? tag.dropFirst() : tag
            let name = body.prefix { $0 != 0x20 && $0 != UInt8(ascii: "/") }
            if var s = skipping {
                if closing && name.elementsEqual(s.name) {
                    s.depth -= 1
                } else if !selfClosing && name.elementsEqual(s.name) {
                    s.depth += 1
                }
                skipping = s.depth == 0 ? nil : s
            } else if !closing && !selfClosing
                && (name.elementsEqual("note".utf8)
                    || (name.elementsEqual("title".utf8) && find(Array("canonical=\"true\"".utf8), in: markup[tag.indices]) == nil))
            {
                skipping = (name, 1)
            } else if name.elementsEqual("l".utf8) || name.elementsEqual("lb".utf8) || name.elementsEqual("div".utf8) {
                append(0x20)
            }
            i = close + 1
        }
        if space, !out.isEmpty { out.removeLast() }
        var text = String(decoding: out, as: UTF8.self)
        if out.contains(UInt8(ascii: "&")) {
            for (entity, char) in [("&lt;", "<"), ("&gt;", ">"), ("&quot;", "\""), ("&apos;", "'"), ("&amp;", "&")] {
                text = text.replacing(entity, with: char)
            }
        }
        return text
    }
}
