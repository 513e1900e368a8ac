// Batching: deterministic orderings of a dataset's items: a seeded shuffle (the engine's
// xoshiro256** Generator, its own stream so the global seed is untouched), fixed-size batches,
// and batches of items of similar length (less padding).

import TesseraTensor

public enum Batching {
    /// A permutation of 0..<count fixed by `seed` (Fisher-Yates).
    public static func shuffled(count: Int, seed: UInt64) -> [Int] {
        shuffle(Array(0..<count), seed: seed)
    }

    /// `items` in an order fixed by `seed`.
    public static func shuffle<T>(_ items: [T], seed: UInt64) -> [T] {
        var a = items
        let g = Generator(seed: seed)
        var i = a.count - 1
        while i > 0 {
            a.swapAt(i, Int(g.nextInt(below: UInt64(i + 1))))
            i -= 1
        }
        return a
    }

    /// `order` cut into batches of `size`; the last one is shorter unless `dropLast`.
    public static func batches(_ order: [Int], size: Int, dropLast: Bool = false) throws -> [[Int]] {
        guard size >= 1 else { throw DataError("batches", line: 0, "batch size must be at least 1, got \(size)") }
        var out: [[Int]] = []
        out.reserveCapacity(order.count / size + 1)
        var i = 0
        while i < order.count {
            let j = min(i + size, order.count)
            if j - i == size || !dropLast { out.append(Array(order[i..<j])) }
            i = j
        }
        return out
    }

    /// Batches of items of similar length: `order` sorted by `lengths[item]` (ties keep their
    /// place in `order`), then cut into batches of `size`, or into batches whose longest item
    /// times their count stays within `maxTokens` when that is given. With a seed the batches
    /// come in an order fixed by it, so epochs do not go from short to long.
    public static func bucketed(
        _ order: [Int], lengths: [Int], size: Int, maxTokens: Int? = nil, seed: UInt64? = nil, dropLast: Bool = false
    ) throws -> [[Int]] {
        guard lengths.count >= (order.max().map { $0 + 1 } ?? 0) else {
            throw DataError("batches", line: 0, "\(lengths.count) lengths for items up to \(order.max() ?? 0)")
        }
        let sorted = order.enumerated().sorted { a, b in
            let (la, lb) = (lengths[a.element], lengths[b.element])
            return la != lb ? la < lb : a.offset < b.offset
        }.map(\.element)
        var out: [[Int]]
        if let maxTokens {
            guard maxTokens >= 1 else { throw DataError("batches", line: 0, "max_tokens must be at least 1, got \(maxTokens)") }
            out = []
            var current: [Int] = []
            for item in sorted {
                // sorted ascending, so this item is the batch's longest
                let longest = max(lengths[item], 1)
                if !current.isEmpty, (current.count + 1) * longest > maxTokens || current.count == size {
                    out.append(current)
                    current = []
                }
                current.append(item)
            }
            if !current.isEmpty { out.append(current) }
        } else {
            out = try batches(sorted, size: size, dropLast: dropLast)
        }
        return seed.map { shuffle(out, seed: $0) } ?? out
    }
}
