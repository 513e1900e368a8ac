// JointTopK: exactly K largest keys over several tensors at once (LT-SFT's global selection of
// the most changed entries), in O(n) by a radix select on the keys' bit patterns: non-negative
// floats order as their bits do, so two histogram passes (high then low 16 bits) find the K-th
// largest key exactly, and a third pass writes the winners. Ties at the threshold go to the
// lowest position in the concatenation (segment order, then index), so the result is exact and
// deterministic, unlike the reference's `>=` threshold, which over-selects on ties.

import Dispatch
import TesseraTensor

/// The selection keys of one segment: `key(i)` is 0 for an entry that may not be chosen, and
/// otherwise 1 + the bit pattern of a non-negative float (so larger keys are larger values).
public protocol SelectionKeys {
    var count: Int { get }
    func key(_ i: Int) -> UInt32
}

/// |a[i] - b[i]|, skipping entries already selected (`excluded`, a dense 0/1 byte mask)
public struct ChangeKeys: SelectionKeys {
    let a: UnsafePointer<Float>
    let b: UnsafePointer<Float>
    let excluded: UnsafePointer<UInt8>?
    public let count: Int

    public init(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, count: Int, excluded: UnsafePointer<UInt8>? = nil) {
        (self.a, self.b, self.count, self.excluded) = (a, b, count, excluded)
    }

    @inline(__always)
    public func key(_ i: Int) -> UInt32 {
        if let excluded, excluded[i] != 0 { return 0 }
        return magnitudeKey(a[i] - b[i])
    }
}

/// |v[i]|: pruning a diff to its largest values, or selecting from a plain array
public struct MagnitudeKeys: SelectionKeys {
    let v: UnsafePointer<Float>
    public let count: Int

    public init(_ v: UnsafePointer<Float>, count: Int) { (self.v, self.count) = (v, count) }

    @inline(__always)
    public func key(_ i: Int) -> UInt32 { magnitudeKey(v[i]) }
}

/// precomputed keys (random selection draws one per entry)
public struct StoredKeys: SelectionKeys {
    let keys: UnsafePointer<UInt32>
    public let count: Int

    public init(_ keys: UnsafePointer<UInt32>, count: Int) { (self.keys, self.count) = (keys, count) }

    @inline(__always)
    public func key(_ i: Int) -> UInt32 { keys[i] }
}

/// 1 + the bits of |x| (NaN ranks above +inf, as in Tensor.topk)
@inline(__always)
func magnitudeKey(_ x: Float) -> UInt32 { (x.bitPattern & 0x7FFF_FFFF) &+ 1 }

/// One piece of one segment, the unit of parallel work.
private struct Piece {
    let segment: Int
    let range: Range<Int>
}

/// The positions of the `k` largest keys over all `segments` jointly: one sorted index list per
/// segment. Throws when fewer than `k` entries may be chosen (key > 0).
public func selectLargest<K: SelectionKeys>(_ segments: [K], k: Int, op: String = "select") throws -> [[Int64]] {
    guard k >= 0 else { throw TensorError(op, "K must be non-negative, got \(k)") }
    if k == 0 { return segments.map { _ in [] } }
    let pieces = split(segments)
    // pass 1: histogram of the high 16 bits of every key; the extra last bin counts the
    // entries that may not be chosen (key 0, also counted in bin 0)
    var high = [Int](repeating: 0, count: (1 << 16) + 1)
    let perPiece = histograms(pieces, bins: (1 << 16) + 1) { p, hist in
        let s = segments[p.segment]
        var zeros = 0
        for i in p.range {
            let key = s.key(i)
            hist[Int(key >> 16)] += 1
            zeros += key == 0 ? 1 : 0
        }
        hist[1 << 16] = zeros
    }
    for h in perPiece { for b in 0...(1 << 16) { high[b] += h[b] } }
    let eligible = high.dropLast().reduce(0, +) - high[1 << 16]
    guard k <= eligible else {
        throw TensorError(op, "K = \(k) is larger than the \(eligible) entries that may be chosen")
    }
    // the bucket holding the k-th largest: `above` keys lie in higher buckets
    var above = 0, bucket = (1 << 16) - 1
    while above + high[bucket] < k {
        above += high[bucket]
        bucket -= 1
    }
    // pass 2: low 16 bits inside that bucket, per piece (kept for the tie split below)
    let b32 = UInt32(bucket)
    let lowPerPiece = histograms(pieces) { p, hist in
        let s = segments[p.segment]
        for i in p.range {
            let key = s.key(i)
            if key >> 16 == b32 { hist[Int(key & 0xFFFF)] += 1 }
        }
    }
    var low = [Int](repeating: 0, count: 1 << 16)
    for h in lowPerPiece { for b in 0..<(1 << 16) { low[b] += h[b] } }
    var lowBucket = (1 << 16) - 1
    while above + low[lowBucket] < k {
        above += low[lowBucket]
        lowBucket -= 1
    }
    let threshold = b32 << 16 | UInt32(lowBucket)
    // keys equal to the threshold, taken in order until k are chosen
    var ties = k - above
    var tiesPerPiece = [Int](repeating: 0, count: pieces.count)
    for (j, h) in lowPerPiece.enumerated() {
        let take = min(ties, h[lowBucket])
        tiesPerPiece[j] = take
        ties -= take
    }
    // pass 3: every key above the threshold, and each piece's share of the ties
    var chosen = [[Int64]](repeating: [], count: pieces.count)
    chosen.withUnsafeMutableBufferPointer { out in
        DispatchQueue.concurrentPerform(iterations: pieces.count) { j in
            let p = pieces[j], s = segments[p.segment]
            var mine: [Int64] = []
            var tiesLeft = tiesPerPiece[j]
            for i in p.range {
                let key = s.key(i)
                if key > threshold || (key == threshold && tiesLeft > 0) {
                    if key == threshold { tiesLeft -= 1 }
                    mine.append(Int64(i))
                }
            }
            out[j] = mine
        }
    }
    var result = [[Int64]](repeating: [], count: segments.count)
    for (j, p) in pieces.enumerated() { result[p.segment] += chosen[j] }
    return result
}

/// Runs `fill` on every piece in parallel, each with its own zeroed histogram.
private func histograms(_ pieces: [Piece], bins: Int = 1 << 16, _ fill: (Piece, UnsafeMutablePointer<Int>) -> Void) -> [[Int]] {
    var out = [[Int]](repeating: [], count: pieces.count)
    out.withUnsafeMutableBufferPointer { res in
        DispatchQueue.concurrentPerform(iterations: pieces.count) { j in
            var hist = [Int](repeating: 0, count: bins)
            hist.withUnsafeMutableBufferPointer { fill(pieces[j], $0.baseAddress!) }
            res[j] = hist
        }
    }
    return out
}

/// Pieces of about n / (4 · cores) entries (at least 2^18), never crossing a segment boundary.
private func split<K: SelectionKeys>(_ segments: [K]) -> [Piece] {
    let total = segments.reduce(0) { $0 + $1.count }
    let size = max(1 << 18, total / (4 * Parallel.cores) + 1)
    var pieces: [Piece] = []
    for (j, s) in segments.enumerated() where s.count > 0 {
        var lo = 0
        while lo < s.count {
            let hi = min(s.count, lo + size)
            pieces.append(Piece(segment: j, range: lo..<hi))
            lo = hi
        }
    }
    return pieces
}
