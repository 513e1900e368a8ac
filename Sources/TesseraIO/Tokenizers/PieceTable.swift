// PieceTable: vocabulary lookup by UTF-8 bytes without making Strings: an open-addressing hash
// table over one byte blob, so the tokenizer's inner loops look up slices of their input buffer.

struct PieceTable {
    /// all keys' bytes, back to back
    private var blob: [UInt8] = []
    /// key k occupies blob[starts[k] ..< starts[k + 1]]
    private var starts: [Int32] = [0]
    /// value of key k
    private var values: [Int32] = []
    /// slot -> key index + 1 (0 = empty); its size is a power of two, at most half full
    private var slots: [Int32] = Array(repeating: 0, count: 16)
    /// length in bytes of the longest key
    private(set) var maxKeyLength = 0

    var count: Int { values.count }

    @inline(__always) private static func hash(_ p: UnsafeRawBufferPointer) -> Int {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in p { h = (h ^ UInt64(b)) &* 0x100_0000_01b3 }
        return Int(truncatingIfNeeded: h ^ (h >> 29))
    }

    /// Adds or replaces `key`.
    mutating func insert<C: Collection>(_ key: C, _ value: Int32) where C.Element == UInt8 {
        let bytes = Array(key)
        if let k = bytes.withUnsafeBytes({ keyIndex($0) }) {
            values[k] = value
            return
        }
        if (values.count + 1) * 2 > slots.count { grow() }
        blob.append(contentsOf: bytes)
        starts.append(Int32(blob.count))
        values.append(value)
        maxKeyLength = max(maxKeyLength, bytes.count)
        place(values.count - 1)
    }

    mutating func insert(_ key: String, _ value: Int32) { insert(Array(key.utf8), value) }

    private mutating func place(_ k: Int) {
        let mask = slots.count - 1
        var s = blob.withUnsafeBytes { PieceTable.hash(UnsafeRawBufferPointer(rebasing: $0[Int(starts[k])..<Int(starts[k + 1])])) } & mask
        while slots[s] != 0 { s = (s + 1) & mask }
        slots[s] = Int32(k + 1)
    }

    private mutating func grow() {
        slots = Array(repeating: 0, count: slots.count * 2)
        for k in 0..<values.count { place(k) }
    }

    private func keyIndex(_ p: UnsafeRawBufferPointer) -> Int? {
        let mask = slots.count - 1
        var s = PieceTable.hash(p) & mask
        return blob.withUnsafeBufferPointer { b in
            starts.withUnsafeBufferPointer { st in
                while true {
                    let k = Int(slots[s]) - 1
                    if k < 0 { return nil }
                    let a = Int(st[k]), e = Int(st[k + 1])
                    if e - a == p.count && (p.count == 0 || memcmpEqual(b.baseAddress! + a, p.baseAddress!, p.count)) {
                        return k
                    }
                    s = (s + 1) & mask
                }
            }
        }
    }

    /// The value stored for the bytes p, or -1.
    @inline(__always) func lookup(_ p: UnsafeRawBufferPointer) -> Int32 {
        guard let k = keyIndex(p) else { return -1 }
        return values[k]
    }

    func lookup(_ p: UnsafeBufferPointer<UInt8>, _ range: Range<Int>) -> Int32 {
        lookup(UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(p)[range]))
    }

    func lookup(_ key: String) -> Int32 {
        var key = key
        return key.withUTF8 { lookup(UnsafeRawBufferPointer($0)) }
    }

    func lookup(bytes: [UInt8]) -> Int32 { bytes.withUnsafeBytes { lookup($0) } }
}

@inline(__always) private func memcmpEqual(_ a: UnsafePointer<UInt8>, _ b: UnsafeRawPointer, _ n: Int) -> Bool {
    let b = b.assumingMemoryBound(to: UInt8.self)
    for i in 0..<n where a[i] != b[i] { return false }
    return true
}
