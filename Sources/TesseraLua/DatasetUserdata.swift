// DatasetUserdata: a dataset in Lua: items read by TesseraIO (CoNLL-U sentences, lines or
// paragraphs, TSV rows, JSONL records) seen through an order of indices, so shuffling, slicing
// and batching make new views without copying items. `#ds`, `ds[i]` (nil past the end, so
// ipairs works) and the methods of the `Dataset` help topic.

import CLua
import LuaShim
import TesseraIO
import TesseraTensor

let datasetMetatableName = "tessera.Dataset"
let datasetMethodsName = "tessera.Dataset.methods"
nonisolated(unsafe) let datasetMetatableKey = UnsafeMutableRawPointer.allocate(byteCount: 1, alignment: 1)
nonisolated(unsafe) let datasetMethodsKey = UnsafeMutableRawPointer.allocate(byteCount: 1, alignment: 1)
/// registry key of the `next` function that ds:iter() returns
nonisolated(unsafe) let datasetNextKey = UnsafeMutableRawPointer.allocate(byteCount: 1, alignment: 1)

/// What a dataset's items are.
enum DatasetItems {
    case sentences([CoNLLUSentence])
    /// lines or paragraphs
    case texts([String])
    /// TSV rows; `names` label the columns when given
    case rows([[String]], names: [String]?)
    /// JSONL objects, members in file order
    case records([[(String, JSONValue)]])

    var count: Int {
        switch self {
        case .sentences(let a): return a.count
        case .texts(let a): return a.count
        case .rows(let a, _): return a.count
        case .records(let a): return a.count
        }
    }
}

final class Dataset {
    let items: DatasetItems
    /// item indices (0-based) in the order this view shows them
    let order: [Int]
    /// conllu, lines, paragraphs, tsv, bitext, jsonl, sword
    let kind: String
    /// where the items came from (a path, or two)
    let source: String

    init(_ items: DatasetItems, kind: String, source: String, order: [Int]? = nil) {
        self.items = items
        self.order = order ?? Array(0..<items.count)
        self.kind = kind
        self.source = source
    }

    func view(_ order: [Int]) -> Dataset { Dataset(items, kind: kind, source: source, order: order) }

    var description: String {
        let unit =
            switch items {
            case .sentences: "sentences"
            case .texts: kind == "paragraphs" ? "paragraphs" : "lines"
            case .rows: kind == "bitext" ? "pairs" : kind == "sword" ? "verses" : "rows"
            case .records: "records"
            }
        return "Dataset(\(kind), \(order.count) \(unit), \(source))"
    }

    /// The default bucketing length of item i: words of a sentence, whitespace-separated words of
    /// a text or of a row's last column (a bitext's target, a verse's text); nil for records (which need a key function).
    func length(_ i: Int) -> Int? {
        func words(_ s: String) -> Int { s.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\n" }).count }
        switch items {
        case .sentences(let a): return a[i].words.count
        case .texts(let a): return words(a[i])
        case .rows(let a, _): return words(a[i].last ?? "")
        case .records: return nil
        }
    }
}

extension LuaStack {
    func dataset(at i: Int32) -> Dataset? { retainedObject(at: i, metatable: datasetMetatableKey, as: Dataset.self) }

    func checkDataset(_ i: Int32, _ fn: String) throws -> Dataset {
        guard let d = dataset(at: i) else { throw LuaError.argument(i, fn, "dataset expected, got \(typeName(i))") }
        return d
    }

    func push(_ d: Dataset) { pushRetained(d, metatable: datasetMetatableKey) }

    func setField(_ key: String, _ value: String) {
        push(value)
        lua_setfield(L, -2, key)
    }

    func push(strings: [String]) {
        lua_createtable(L, Int32(strings.count), 0)
        for (k, s) in strings.enumerated() {
            push(s)
            lua_rawseti(L, -2, lua_Integer(k + 1))
        }
    }

    /// Item `i` (0-based) of the dataset's storage as a Lua value.
    func pushItem(_ d: Dataset, _ i: Int) {
        switch d.items {
        case .sentences(let a): push(sentence: a[i])
        case .texts(let a): push(a[i])
        case .rows(let a, let names):
            let row = a[i]
            lua_createtable(L, Int32(row.count), Int32(names?.count ?? 0))
            for (k, field) in row.enumerated() {
                push(field)
                lua_rawseti(L, -2, lua_Integer(k + 1))
                if let names, k < names.count { setField(names[k], field) }
            }
        case .records(let a):
            lua_createtable(L, 0, Int32(a[i].count))
            for (key, value) in a[i] {
                push(json: value)
                lua_setfield(L, -2, key)
            }
        }
    }

    /// A JSON value: objects and arrays as tables, null as nil.
    func push(json v: JSONValue) {
        switch v {
        case .null: pushNil()
        case .bool(let b): push(b)
        case .number: if let i = v.int { push(i) } else { push(v.double ?? .nan) }
        case .string(let s): push(s)
        case .array(let a):
            lua_createtable(L, Int32(a.count), 0)
            for (k, x) in a.enumerated() {
                push(json: x)
                lua_rawseti(L, -2, lua_Integer(k + 1))
            }
        case .object(let members):
            lua_createtable(L, 0, Int32(members.count))
            for (key, x) in members {
                push(json: x)
                lua_setfield(L, -2, key)
            }
        }
    }

    /// FEATS as a table key -> value; a key written twice keeps both values, joined by ",".
    func push(features row: CoNLLURow) {
        let pairs = row.features
        lua_createtable(L, 0, Int32(pairs.count))
        for (key, value) in pairs {
            if lua_getfield(L, -1, key) == LUA_TSTRING, let previous = string(at: -1) {
                lua_settop(L, -2)
                setField(key, previous + "," + value)
            } else {
                lua_settop(L, -2)
                setField(key, value)
            }
        }
    }

    /// One row with all 10 columns: id (an integer for a word, "2-3" or "4.1" otherwise), form,
    /// lemma, upos, xpos, feats (a table), head (nil when "_"), deprel, deps, misc, and its line.
    func push(row r: CoNLLURow) {
        lua_createtable(L, 0, 12)
        if case .word(let i) = r.id { push(i) } else { push(r.id.description) }
        lua_setfield(L, -2, "id")
        if case .range(let first, let last) = r.id {
            push(first)
            lua_setfield(L, -2, "first")
            push(last)
            lua_setfield(L, -2, "last")
        }
        for (key, value) in [
            ("form", r.form), ("lemma", r.lemma), ("upos", r.upos), ("xpos", r.xpos), ("deprel", r.deprel), ("deps", r.deps), ("misc", r.misc),
        ] {
            setField(key, value)
        }
        push(features: r)
        lua_setfield(L, -2, "feats")
        if let h = r.head {
            push(h)
            lua_setfield(L, -2, "head")
        }
        push(r.line)
        lua_setfield(L, -2, "line")
    }

    func push(rows: [CoNLLURow]) {
        lua_createtable(L, Int32(rows.count), 0)
        for (k, r) in rows.enumerated() {
            push(row: r)
            lua_rawseti(L, -2, lua_Integer(k + 1))
        }
    }

    /// A sentence table: column lists over the words (words, lemmas, upos, xpos, heads, deprels,
    /// feats), the full rows (tokens), multiword tokens, empty nodes, comments and metadata.
    func push(sentence s: CoNLLUSentence) {
        lua_createtable(L, 0, 16)
        push(strings: s.words.map(\.form))
        lua_setfield(L, -2, "words")
        push(strings: s.words.map(\.lemma))
        lua_setfield(L, -2, "lemmas")
        push(strings: s.words.map(\.upos))
        lua_setfield(L, -2, "upos")
        push(strings: s.words.map(\.xpos))
        lua_setfield(L, -2, "xpos")
        // a head of "_" becomes -1, so the list has no holes
        push(s.words.map { $0.head ?? -1 })
        lua_setfield(L, -2, "heads")
        push(strings: s.words.map(\.deprel))
        lua_setfield(L, -2, "deprels")
        lua_createtable(L, Int32(s.words.count), 0)
        for (k, w) in s.words.enumerated() {
            push(features: w)
            lua_rawseti(L, -2, lua_Integer(k + 1))
        }
        lua_setfield(L, -2, "feats")
        push(rows: s.words)
        lua_setfield(L, -2, "tokens")
        push(rows: s.multiwordTokens)
        lua_setfield(L, -2, "multiword")
        push(rows: s.emptyNodes)
        lua_setfield(L, -2, "empty")
        push(strings: s.comments)
        lua_setfield(L, -2, "comments")
        if let t = s.text { setField("text", t) }
        if let id = s.sentID { setField("sent_id", id) }
        push(s.line)
        lua_setfield(L, -2, "line")
    }
}

extension LuaRuntime {
    func openDatasetMetatable() {
        newRetainedMetatable(datasetMetatableName, key: datasetMetatableKey, shownAs: "dataset")
        setFunction("__tostring", qualifiedName: "tostring") { s in
            s.push(try s.checkDataset(1, "tostring").description)
            return 1
        }
        setFunction("__len", qualifiedName: "len") { s in
            s.push(try s.checkDataset(1, "len").order.count)
            return 1
        }
        setMethodIndex(methodsKey: datasetMethodsKey, qualifiedName: "index") { s in
            // ds[i]: 1-based, negative from the end, nil outside (so ipairs stops)
            let d = try s.checkDataset(1, "index")
            var ok: Int32 = 0
            let i = Int(luashim_tointeger(s.L, 2, &ok))
            let n = d.order.count
            guard lua_type(s.L, 2) == LUA_TNUMBER, ok != 0, i != 0, i >= -n, i <= n else { return s.pushNil() }
            s.pushItem(d, d.order[i > 0 ? i - 1 : n + i])
        }
        lua_settop(L, -2)
        pushFunction("Dataset:iter") { s in
            // next(ds, i) -> i + 1, ds[i + 1]
            let d = try s.checkDataset(1, "iter")
            let i = try s.checkInt(2, "iter") + 1
            guard i >= 1, i <= d.order.count else { return 0 }
            s.push(i)
            s.pushItem(d, d.order[i - 1])
            return 2
        }
        lua_rawsetp(L, luashim_registryindex(), datasetNextKey)
        openMethodTable(key: datasetMethodsKey, registryName: datasetMethodsName) { openDatasetMethods() }
    }
}
