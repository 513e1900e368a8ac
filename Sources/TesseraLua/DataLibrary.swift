// DataLibrary: the `data` Lua library: datasets read from CoNLL-U treebanks, plain-text corpora
// (lines, paragraphs), TSV and bitext, and JSON Lines (TesseraIO/Data), plus the Dataset methods
// (iteration, seeded shuffle, batches, bucket-by-length).

import CLua
import LuaShim
import TesseraIO
import TesseraTensor

/// Lua that writes a two-sentence CoNLL-U file to `path` (for the help examples).
private let conlluFile = #"""
    local path = os.tmpname()
    local f = io.open(path, "w")
    f:write("# sent_id = 1\n# text = Dogs bark.\n",
      "1\tDogs\tdog\tNOUN\tNNS\tNumber=Plur\t2\tnsubj\t_\t_\n",
      "2\tbark\tbark\tVERB\tVBP\tMood=Ind|Tense=Pres\t0\troot\t_\tSpaceAfter=No\n",
      "3\t.\t.\tPUNCT\t.\t_\t2\tpunct\t_\t_\n\n",
      "# sent_id = 2\n# text = I can't.\n",
      "1\tI\tI\tPRON\tPRP\tCase=Nom\t2\tnsubj\t_\t_\n",
      "2-3\tcan't\t_\t_\t_\t_\t_\t_\t_\tSpaceAfter=No\n",
      "2\tca\tcan\tAUX\tMD\t_\t0\troot\t_\t_\n",
      "3\tn't\tnot\tPART\tRB\t_\t2\tadvmod\t_\tSpaceAfter=No\n",
      "4\t.\t.\tPUNCT\t.\t_\t2\tpunct\t_\t_\n\n")
    f:close()

    """#

/// Lua that writes a small text file with six lines (two blank) to `path`.
private let textFile = #"""
    local path = os.tmpname()
    local f = io.open(path, "w")
    f:write("the cat sat\non the mat\n\na dog\n\nbarked loudly at it\n")
    f:close()

    """#

extension LuaStack {
    /// A table of strings at argument i, read from field `key` of an options table (nil if absent).
    func stringList(options i: Int32, _ key: String, _ fn: String) throws -> [String]? {
        guard lua_type(L, i) == LUA_TTABLE else { return nil }
        lua_getfield(L, i, key)
        defer { lua_settop(L, -2) }
        if lua_type(L, -1) == LUA_TNIL { return nil }
        guard lua_type(L, -1) == LUA_TTABLE else {
            throw LuaError.argument(i, fn, "option '\(key)' must be a table of strings, got \(typeName(-1))")
        }
        let t = lua_absindex(L, -1)
        var out: [String] = []
        for k in 0..<Int(lua_rawlen(L, t)) {
            lua_rawgeti(L, t, lua_Integer(k + 1))
            defer { lua_settop(L, -2) }
            guard lua_type(L, -1) == LUA_TSTRING, let s = string(at: -1) else {
                throw LuaError.argument(i, fn, "option '\(key)': element \(k + 1) is a \(typeName(-1)), not a string")
            }
            out.append(s)
        }
        return out
    }
}

/// Reads every item of a stream, checking for Ctrl-C every 1024 items.
private func readAll<T>(_ fn: String, _ next: () throws -> T?) throws -> [T] {
    var out: [T] = []
    while let x = try next() {
        out.append(x)
        if out.count & 1023 == 0 { try Cancellation.check(fn) }
    }
    return out
}

extension LuaRuntime {
    func openDataLibrary() {
        openDatasetMetatable()
        lua_createtable(L, 0, 8)
        let lib = LibraryBuilder(self, prefix: "data", qualifiedErrors: true)
        Help.addTopic(
            "data",
            """
            data: datasets read from files (CoNLL-U treebanks, text lines or paragraphs, TSV and
            bitext, JSON Lines, SWORD Bible modules). Files are read in chunks; a malformed line is an error naming
            file:line. A dataset has #ds, ds[i] (1-based; nil past the end, so ipairs works),
            ds:iter(), and views that share its items: ds:shuffle(seed), ds:slice(i, j),
            ds:batches(n [, {bucket=true}]). See help("Dataset").
            """)
        lib.def(
            "conllu", "data.conllu(path)", "The sentences of a CoNLL-U file (Universal Dependencies) as a dataset.",
            details: """
                ds[i] is a table: words (forms), lemmas, upos, xpos, heads (0 is the root, -1 for
                "_"), deprels and feats (one table per word, key -> value) over the words; tokens
                (the full rows: id, form, lemma, upos, xpos, feats, head, deprel, deps, misc,
                line); multiword (tokens such as "can't" = 2-3, with first and last) and empty
                (empty nodes such as 8.1) apart from the words; text, sent_id, comments and the
                line the sentence starts on. Every row is checked (10 columns, IDs in order, HEAD
                within the sentence, FEATS as Key=Value).
                """,
            example: conlluFile
                + "local ds = data.conllu(path)\nprint(ds, #ds)\nlocal s = ds[2]\nprint(s.text, table.concat(s.words, ' '), s.heads[3], s.multiword[1].form)\nprint(ds[1].feats[2].Tense)"
        ) { s in
            let fn = "data.conllu"
            let path = try s.checkString(1, fn)
            let r = try CoNLLUReader(path: path)
            s.push(Dataset(.sentences(try readAll(fn) { try r.next() }), kind: "conllu", source: path))
            return 1
        }
        lib.def(
            "lines", "data.lines(path [, {skip_empty=false}])", "The lines of a text file as a dataset of strings.",
            details: "Line ends (\\n or \\r\\n) are removed. Blank lines are items unless skip_empty is true, so ds[i] is line i.",
            example: textFile + "local ds = data.lines(path)\nprint(#ds, ds[1])\nprint(#data.lines(path, {skip_empty = true}))"
        ) { s in
            let fn = "data.lines"
            let path = try s.checkString(1, fn)
            let skipEmpty = try s.options(2, fn, allowed: ["skip_empty"]).bool("skip_empty") ?? false
            let r = try TextCorpusReader(path: path, unit: .lines)
            var lines = try readAll(fn) { try r.next()?.text }
            if skipEmpty { lines.removeAll { $0.allSatisfy { $0 == " " || $0 == "\t" } } }
            s.push(Dataset(.texts(lines), kind: "lines", source: path))
            return 1
        }
        lib.def(
            "paragraphs", "data.paragraphs(path)", "The paragraphs of a text file (runs of lines between blank lines) as strings.",
            details: "The lines of a paragraph are joined with \"\\n\"; several blank lines in a row separate just once.",
            example: textFile + "local ds = data.paragraphs(path)\nprint(#ds)\nfor i, p in ds:iter() do print(i, p) end"
        ) { s in
            let fn = "data.paragraphs"
            let path = try s.checkString(1, fn)
            let r = try TextCorpusReader(path: path, unit: .paragraphs)
            s.push(Dataset(.texts(try readAll(fn) { try r.next()?.text }), kind: "paragraphs", source: path))
            return 1
        }
        lib.def(
            "tsv", "data.tsv(path [, {header=false, columns={...}}])", "The rows of a tab-separated file as tables of fields.",
            details: """
                ds[i] is {field1, field2, ...}; with header=true the first row names the columns, or
                columns={"src", "tgt"} names them, and each row also has row.src, row.tgt. Every row
                must have as many fields as the first (a field is everything between tabs; no
                quoting). Blank lines are skipped.
                """,
            example: #"""
                local path = os.tmpname()
                local f = io.open(path, "w")
                f:write("en\tes\nthe house\tla casa\ngood morning\tbuenos días\n")
                f:close()
                local ds = data.tsv(path, {header = true})
                print(#ds, ds[1].en, ds[1].es, ds[2][2])
                """#
        ) { s in
            let fn = "data.tsv"
            let path = try s.checkString(1, fn)
            let opts = try s.options(2, fn, allowed: ["header"], raw: ["columns"])
            var names = try s.stringList(options: 2, "columns", fn)
            let r = try TSVReader(path: path, columns: names?.count)
            var rows = try readAll(fn) { try r.next()?.fields }
            if try opts.bool("header") == true {
                guard names == nil else { throw LuaError.argument(2, fn, "give header=true or columns, not both") }
                names = rows.isEmpty ? [] : rows.removeFirst()
            }
            s.push(Dataset(.rows(rows, names: names), kind: "tsv", source: path))
            return 1
        }
        lib.def(
            "bitext", "data.bitext(source_path, target_path)", "Sentence pairs from two files aligned line by line: ds[i] = {source, target}.",
            details:
                "ds[i] also has .source and .target. The files must have the same number of lines (an error names the first unmatched line). For a two-column TSV file use data.tsv(path, {columns = {\"source\", \"target\"}}).",
            example: #"""
                local en, es = os.tmpname(), os.tmpname()
                local f = io.open(en, "w") f:write("the house\ngood morning\n") f:close()
                f = io.open(es, "w") f:write("la casa\nbuenos días\n") f:close()
                local ds = data.bitext(en, es)
                print(#ds, ds[2].source, ds[2].target)
                """#
        ) { s in
            let fn = "data.bitext"
            let (a, b) = (try s.checkString(1, fn), try s.checkString(2, fn))
            let pairs = try Bitext.read(source: a, target: b)
            s.push(Dataset(.rows(pairs.map { [$0.source, $0.target] }, names: ["source", "target"]), kind: "bitext", source: a + " + " + b))
            return 1
        }
        lib.def(
            "jsonl", "data.jsonl(path [, {fields={...}}])", "The objects of a JSON Lines file as tables.",
            details: """
                Each non-blank line must be one JSON object. Objects and arrays become tables, null
                becomes nil, integers stay integers. With fields={"question", "answer"} only those
                fields are kept, and a line without one of them is an error naming file:line.
                """,
            example: #"""
                local path = os.tmpname()
                local f = io.open(path, "w")
                f:write('{"question": "2+2?", "answer": 4, "tags": ["math"]}\n', '{"question": "1+1?", "answer": 2}\n')
                f:close()
                local ds = data.jsonl(path, {fields = {"question", "answer"}})
                print(#ds, ds[1].question, ds[1].answer, ds[1].tags)
                """#
        ) { s in
            let fn = "data.jsonl"
            let path = try s.checkString(1, fn)
            _ = try s.options(2, fn, allowed: [], raw: ["fields"])
            let fields = try s.stringList(options: 2, "fields", fn)
            let r = try JSONLReader(path: path)
            let records = try readAll(fn) { () -> [(String, JSONValue)]? in
                guard let (line, members) = try r.next() else { return nil }
                guard let fields else { return members }
                return try fields.map { name in
                    guard let m = members.last(where: { $0.0 == name }) else { throw DataError(path, line: line, "no field '\(name)'") }
                    return m
                }
            }
            s.push(Dataset(.records(records), kind: "jsonl", source: path))
            return 1
        }
        lib.def(
            "sword", "data.sword(folder [, folder2])", "The verses of a SWORD zText Bible module; with two modules, the verses both have, aligned.",
            details: """
                folder holds a module's ot.bz* and nt.bz* files (scripts/fetch-assets puts the King James
                Version in assets/bible/kjv and Reina-Valera 1909 in assets/bible/sparv). ds[i] is
                {reference, text} (reference "Gen.1.1"; text without markup or notes), or with a
                second module {reference, source, target}, for the verses with text in both.
                """,
            example: #"""
                local dir = "assets/bible"
                if io.open(dir .. "/kjv/ot.bzz") then
                  local ds = data.sword(dir .. "/kjv", dir .. "/sparv")
                  print(#ds, ds[1].reference, ds[1].source, ds[1].target)
                else
                  print("run scripts/fetch-assets to fetch the Bible modules")
                end
                """#
        ) { s in
            let fn = "data.sword"
            let a = try s.checkString(1, fn)
            if s.isNoneOrNil(2) {
                let verses = try SwordZText.verses(folder: a)
                s.push(Dataset(.rows(verses.map { [$0.reference, $0.text] }, names: ["reference", "text"]), kind: "sword", source: a))
            } else {
                let b = try s.checkString(2, fn)
                let pairs = try SwordZText.aligned(a, b)
                s.push(
                    Dataset(
                        .rows(pairs.map { [$0.reference, $0.source, $0.target] }, names: ["reference", "source", "target"]), kind: "sword",
                        source: a + " + " + b))
            }
            return 1
        }
        lua_setglobal(L, "data")
    }

    func openDatasetMethods() {
        let m = LibraryBuilder(self, prefix: "Dataset", methods: true)
        Help.addTopic(
            "Dataset",
            """
            Dataset methods (data.conllu, data.lines, data.paragraphs, data.tsv, data.bitext,
            data.jsonl), called as ds:name(...). #ds is the number of items and ds[i] item i
            (1-based, negative from the end, nil past the end). shuffle, slice and batches make
            views that share the items; a seed fixes an order on every machine.
            """)
        let example = conlluFile + "local ds = data.conllu(path)\n"
        m.def(
            "iter", "ds:iter()", "An iterator over (i, item), for `for i, s in ds:iter() do ... end` (ipairs(ds) works too).",
            example: example + "for i, s in ds:iter() do print(i, s.sent_id, #s.words) end"
        ) { s in
            let d = try s.checkDataset(1, "iter")
            lua_rawgetp(s.L, luashim_registryindex(), datasetNextKey)
            s.push(d)
            s.push(0)
            return 3
        }
        m.def(
            "shuffle", "ds:shuffle(seed)", "The items in an order fixed by the integer seed (a new view; the global seed is untouched).",
            details: "Fisher-Yates with the engine's xoshiro256** generator seeded by seed, so the order is the same on every run and machine.",
            example: textFile + "local ds = data.lines(path)\nlocal sh = ds:shuffle(42)\nprint(sh[1], sh[2])\nprint(ds:shuffle(42)[1] == sh[1])"
        ) { s in
            let d = try s.checkDataset(1, "shuffle")
            let seed = try s.checkInt(2, "shuffle")
            s.push(d.view(Batching.shuffle(d.order, seed: UInt64(bitPattern: Int64(seed)))))
            return 1
        }
        m.def(
            "slice", "ds:slice(first [, last])", "Items first..last (inclusive, 1-based, negative from the end) as a new view.",
            example: textFile + "local ds = data.lines(path)\nlocal head = ds:slice(1, 2)\nprint(#head, head[2])\nprint(ds:slice(-1)[1])"
        ) { s in
            let d = try s.checkDataset(1, "slice")
            let n = d.order.count
            func position(_ i: Int32, _ def: Int) throws -> Int {
                let v = try s.optInt(i, "slice", def)
                return v < 0 ? n + v + 1 : v
            }
            let (a, b) = (try position(2, 1), try position(3, n))
            guard a >= 1, b <= n, a <= b + 1 else {
                throw LuaError.argument(2, "slice", "range \(a)..\(b) is outside the dataset's \(n) items")
            }
            s.push(d.view(Array(d.order[(a - 1)..<b])))
            return 1
        }
        m.def(
            "indices", "ds:indices()", "The positions (1-based) in the file-order dataset of this view's items.",
            example: textFile + "local ds = data.lines(path):shuffle(1)\nprint(table.concat(ds:indices(), ' '))"
        ) { s in
            s.push(try s.checkDataset(1, "indices").order.map { $0 + 1 })
            return 1
        }
        m.def(
            "batches", "ds:batches(size [, {bucket=false, key=, seed=, max_tokens=, drop_last=false}])",
            "Consecutive batches of size items (each a dataset view); with bucket=true, batches of similar length.",
            details: """
                Returns a table of datasets. Without bucket, batches follow the view's order (shuffle
                first for random batches); drop_last leaves out a short last batch. With bucket=true
                the items are sorted by length (ties keep their order) and cut into batches, so little
                padding is needed; seed then shuffles the order of the batches, and max_tokens cuts
                a batch when (its longest length) x (its size) would pass max_tokens. The length is
                key(item) when key is a function, otherwise the number of words (of a sentence, a
                text, or a row's last field); JSONL datasets need key.
                """,
            example: example
                + "for _, b in ipairs(ds:batches(1)) do print(#b, b[1].sent_id) end\nlocal buckets = ds:batches(2, {bucket = true, key = function(s) return #s.words end})\nprint(#buckets, #buckets[1])"
        ) { s in
            try self.batches(s)
        }
    }

    /// ds:batches(size [, options]): a table of dataset views.
    private func batches(_ s: LuaStack) throws -> Int32 {
        let fn = "batches"
        let d = try s.checkDataset(1, fn)
        let size = try s.checkInt(2, fn)
        guard size >= 1 else { throw LuaError.argument(2, fn, "batch size must be at least 1, got \(size)") }
        let opts = try s.options(3, fn, allowed: ["bucket", "seed", "max_tokens", "drop_last"], raw: ["key"])
        let dropLast = try opts.bool("drop_last") ?? false
        let groups: [[Int]]
        if try opts.bool("bucket") == true {
            let lengths = try bucketLengths(s, d, fn)
            let seed = try opts.int("seed").map { UInt64(bitPattern: Int64($0)) }
            groups = try Batching.bucketed(
                d.order, lengths: lengths, size: size, maxTokens: try opts.int("max_tokens"), seed: seed, dropLast: dropLast)
        } else {
            for key in ["seed", "max_tokens", "key"] where lua_type(s.L, 3) == LUA_TTABLE {
                let present = lua_getfield(s.L, 3, key) != LUA_TNIL
                lua_settop(s.L, -2)
                if present { throw LuaError.argument(3, fn, "option '\(key)' needs bucket=true (for random batches, shuffle first)") }
            }
            groups = try Batching.batches(d.order, size: size, dropLast: dropLast)
        }
        lua_createtable(s.L, Int32(groups.count), 0)
        for (k, g) in groups.enumerated() {
            s.push(d.view(g))
            lua_rawseti(s.L, -2, lua_Integer(k + 1))
        }
        return 1
    }

    /// The length of every stored item: key(item) for a key function, the default length otherwise.
    private func bucketLengths(_ s: LuaStack, _ d: Dataset, _ fn: String) throws -> [Int] {
        var lengths = [Int](repeating: 0, count: d.items.count)
        let hasKey = lua_type(s.L, 3) == LUA_TTABLE && lua_getfield(s.L, 3, "key") != LUA_TNIL
        if !hasKey {
            if lua_type(s.L, 3) == LUA_TTABLE { lua_settop(s.L, -2) }
            for i in d.order {
                guard let n = d.length(i) else {
                    throw LuaError.argument(3, fn, "\(d.kind) items have no length of their own: give key = function(item) return ... end")
                }
                lengths[i] = n
            }
            return lengths
        }
        guard lua_type(s.L, -1) == LUA_TFUNCTION else {
            throw LuaError.argument(3, fn, "option 'key' must be a function(item) returning a number, got \(s.typeName(-1))")
        }
        let key = lua_gettop(s.L)
        lua_pushcclosure(s.L, luashim_traceback, 0)
        let handler = lua_gettop(s.L)
        for (k, i) in d.order.enumerated() {
            lua_pushvalue(s.L, key)
            s.pushItem(d, i)
            guard luashim_pcall(s.L, 1, 1, handler) == LUA_OK else {
                let message = s.string(at: -1) ?? "error in key"
                lua_settop(s.L, -2)
                s.push("batches: key failed: " + message)
                throw LuaCalleeError()
            }
            guard let n = s.number(at: -1), n.isFinite, abs(n) < 1e15 else {
                throw LuaError.argument(3, fn, "key returned \(s.typeName(-1)) for item \(k + 1), not a number")
            }
            lengths[i] = Int(n.rounded())
            lua_settop(s.L, -2)
            if k & 1023 == 1023 { try Cancellation.check(fn) }
        }
        lua_settop(s.L, key - 1)
        return lengths
    }
}
