// BytePairEncoding: the BPE model (GPT-2, LLaMA-3, SmolLM2 with byte-level input; SentencePiece
// BPE with byte fallback). A word starts as its characters; the adjacent pair with the lowest
// merge rank is merged until no pair has a merge (a min-heap of (rank, position), as HF does);
// results are cached per word.

import Foundation

final class BPEModel: TokenizationModel, @unchecked Sendable {
    let vocabulary: Vocabulary
    /// (left id << 32 | right id) -> rank of the merge and id of the merged token
    private let merges: [UInt64: (rank: Int32, id: Int32)]
    let unknownToken: String?
    private let unk: Int32?
    let continuingSubwordPrefix: String?
    let endOfWordSuffix: String?
    let fuseUnknown: Bool
    let byteFallback: Bool
    /// a word that is itself a token is not merged (LLaMA-3)
    let ignoreMerges: Bool
    /// merge list as read, for saving and inspection ("a b" strings)
    let mergeCount: Int
    private let byteIDs: [Int32]
    private var cache: [[UInt8]: [Int32]] = [:]
    private let cacheLock = NSLock()
    private static let cacheCapacity = 50_000
    private static let cachedWordLength = 256

    var unknownID: Int? { unk.map(Int.init) }

    /// merges: pairs of tokens, in rank order; each pair and its concatenation must be tokens.
    init(
        vocabulary: Vocabulary, merges: [(String, String)], unknownToken: String? = nil, continuingSubwordPrefix: String? = nil,
        endOfWordSuffix: String? = nil, fuseUnknown: Bool = false, byteFallback: Bool = false, ignoreMerges: Bool = false
    ) throws {
        self.vocabulary = vocabulary
        var table: [UInt64: (rank: Int32, id: Int32)] = [:]
        table.reserveCapacity(merges.count)
        for (rank, (a, b)) in merges.enumerated() {
            guard let ia = vocabulary.id(a), let ib = vocabulary.id(b) else {
                throw TokenizerError.malformed("BPE merge \(rank + 1) (\(a) \(b)): a part is not in the vocabulary")
            }
            guard let merged = vocabulary.id(a + b) else {
                throw TokenizerError.malformed("BPE merge \(rank + 1) (\(a) \(b)): \(a + b) is not in the vocabulary")
            }
            table[UInt64(ia) << 32 | UInt64(ib)] = (Int32(rank), Int32(merged))
        }
        self.merges = table
        mergeCount = merges.count
        self.unknownToken = unknownToken
        if let unknownToken {
            guard let u = vocabulary.id(unknownToken) else {
                throw TokenizerError.malformed("BPE: the unknown token \(unknownToken.debugDescription) is not in the vocabulary")
            }
            unk = Int32(u)
        } else {
            unk = nil
        }
        self.continuingSubwordPrefix = continuingSubwordPrefix
        self.endOfWordSuffix = endOfWordSuffix
        self.fuseUnknown = fuseUnknown
        self.byteFallback = byteFallback
        self.ignoreMerges = ignoreMerges
        byteIDs = (0..<256).map { b in Int32(vocabulary.id(byteFallbackToken(UInt8(b))) ?? -1) }
    }

    func tokenize(_ p: UnsafeBufferPointer<UInt8>, _ r: Range<Int>, into ids: inout [Int32]) throws {
        let cacheable = r.count <= BPEModel.cachedWordLength
        let key = Array(p[r])
        if cacheable {
            cacheLock.lock()
            let hit = cache[key]
            cacheLock.unlock()
            if let hit {
                ids.append(contentsOf: hit)
                return
            }
        }
        let word = try merge(p, r)
        ids.append(contentsOf: word)
        if cacheable {
            cacheLock.lock()
            if cache.count >= BPEModel.cacheCapacity { cache.removeAll(keepingCapacity: true) }
            cache[key] = word
            cacheLock.unlock()
        }
    }

    /// The initial symbols of the word (characters, with prefix/suffix, byte fallback and unknown
    /// handling as HF's merge_word), then merged.
    private func merge(_ p: UnsafeBufferPointer<UInt8>, _ r: Range<Int>) throws -> [Int32] {
        if ignoreMerges {
            let id = vocabulary.table.lookup(p, r)
            if id >= 0 { return [id] }
        }
        var symbols: [Int32] = []
        symbols.reserveCapacity(r.count)
        var pendingUnknown = false
        var i = r.lowerBound
        while i < r.upperBound {
            let n = min(utf8Length(p[i]), r.upperBound - i)
            let isFirst = i == r.lowerBound, isLast = i + n == r.upperBound
            var id: Int32
            if (isFirst || continuingSubwordPrefix == nil) && (!isLast || endOfWordSuffix == nil) {
                id = vocabulary.table.lookup(p, i..<i + n)
            } else {
                var s = stringFromUTF8(p[i..<i + n])
                if !isFirst, let prefix = continuingSubwordPrefix { s = prefix + s }
                if isLast, let suffix = endOfWordSuffix { s += suffix }
                id = vocabulary.id(s).map(Int32.init) ?? -1
            }
            if id >= 0 {
                symbols.append(id)
                pendingUnknown = false
            } else if byteFallback && (i..<i + n).allSatisfy({ byteIDs[Int(p[$0])] >= 0 }) {
                for k in i..<i + n { symbols.append(byteIDs[Int(p[k])]) }
                pendingUnknown = false
            } else if let unk {
                if !(fuseUnknown && pendingUnknown) { symbols.append(unk) }
                pendingUnknown = true
            }
            i += n
        }
        return mergeAll(symbols)
    }

    /// Applies merges lowest rank first (leftmost among equal ranks) until none applies.
    private func mergeAll(_ initial: [Int32]) -> [Int32] {
        var ids = initial
        let count = ids.count
        if count < 2 { return ids }
        var next = (0..<count).map { $0 + 1 }
        var prev = (0..<count).map { $0 - 1 }
        var alive = [Bool](repeating: true, count: count)
        var heap = MinHeap()
        @inline(__always) func pairKey(_ a: Int, _ b: Int) -> UInt64 { UInt64(UInt32(bitPattern: ids[a])) << 32 | UInt64(UInt32(bitPattern: ids[b])) }
        for k in 0..<count - 1 {
            if let m = merges[pairKey(k, k + 1)] { heap.push(UInt64(m.rank) << 32 | UInt64(k)) }
        }
        while let top = heap.pop() {
            let rank = Int32(top >> 32), pos = Int(top & 0xFFFF_FFFF)
            guard alive[pos], next[pos] < count else { continue }
            let right = next[pos]
            guard let m = merges[pairKey(pos, right)], m.rank == rank else { continue }
            ids[pos] = m.id
            alive[right] = false
            next[pos] = next[right]
            if next[right] < count { prev[next[right]] = pos }
            if prev[pos] >= 0, let pm = merges[pairKey(prev[pos], pos)] { heap.push(UInt64(pm.rank) << 32 | UInt64(prev[pos])) }
            if next[pos] < count, let nm = merges[pairKey(pos, next[pos])] { heap.push(UInt64(nm.rank) << 32 | UInt64(pos)) }
        }
        var out: [Int32] = []
        out.reserveCapacity(count)
        var k = 0
        while k < count {
            out.append(ids[k])
            k = next[k]
        }
        return out
    }
}

/// A binary min-heap of UInt64 keys ((rank << 32) | position: lowest rank first, then leftmost).
struct MinHeap {
    private var items: [UInt64] = []

    mutating func push(_ x: UInt64) {
        items.append(x)
        var i = items.count - 1
        while i > 0 {
            let parent = (i - 1) / 2
            if items[parent] <= items[i] { break }
            items.swapAt(parent, i)
            i = parent
        }
    }

    mutating func pop() -> UInt64? {
        guard let top = items.first else { return nil }
        let last = items.removeLast()
        if !items.isEmpty {
            items[0] = last
            var i = 0
            while true {
                let l = 2 * i + 1, r = l + 1
                var m = i
                if l < items.count && items[l] < items[m] { m = l }
                if r < items.count && items[r] < items[m] { m = r }
                if m == i { break }
                items.swapAt(m, i)
                i = m
            }
        }
        return top
    }
}
