// BlockCache: freed large blocks kept for reuse. A training step frees and reallocates the same
// large tensors every iteration; from the system allocator each one arrives as fresh pages that
// the kernel must fault in and zero (a 64 MB output costs 16k faults, more than the kernel that
// fills it), and heap-served large blocks fragment. Blocks from 64 KiB up are rounded to a size
// class (at most 12.5% larger), taken from here when one of that class is free, and returned
// here when the tensor dies, up to a cap; the rest go back to the system.

#if canImport(Glibc)
    import Glibc
#endif

public enum BlockCache {
    /// blocks this large or larger are cached
    static let minimumSize = 1 << 16
    /// bytes the cache may hold: as much as tensors have ever held at once (a training step frees
    /// and reallocates its whole graph every iteration; a fixed 256 MB thrashed on a MiniLM step),
    /// at least 256 MB, at most a quarter of the machine's memory. So the cache never makes the
    /// process hold more than twice its own peak.
    static var capacity: Int {
        Swift.min(Storage.physicalMemory / 4, Swift.max(256 << 20, Storage.peakLiveBytes))
    }

    nonisolated(unsafe) private static var blocks: [Int: [UnsafeMutableRawPointer]] = [:]
    nonisolated(unsafe) public private(set) static var cachedBytes = 0
    private static let lock: UnsafeMutablePointer<pthread_mutex_t> = {
        let m = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
        pthread_mutex_init(m, nil)
        return m
    }()

    /// the size a request is served with: its size class, a multiple of an eighth of the
    /// largest power of two not above it
    static func bucket(_ bytes: Int) -> Int {
        let step = Swift.max(1, (1 << (Int.bitWidth - 1 - bytes.leadingZeroBitCount)) >> 3)
        return (bytes + step - 1) / step * step
    }

    /// A cached block for a request of `bucket` bytes and its size: one of exactly that class if
    /// free, else the smallest free one up to twice as large. Its pages are already resident, so
    /// lending it costs no memory, where a fresh block would add its whole size (and its page
    /// faults) to the process; the block goes back to its own class when the tensor dies.
    static func take(_ bucket: Int) -> (UnsafeMutableRawPointer, Int)? {
        pthread_mutex_lock(lock)
        defer { pthread_mutex_unlock(lock) }
        var size = bucket
        if blocks[bucket]?.isEmpty ?? true {
            guard let larger = blocks.lazy.filter({ $0.key > bucket && $0.key <= 2 * bucket && !$0.value.isEmpty }).map(\.key).min() else {
                return nil
            }
            size = larger
        }
        guard let p = blocks[size]?.popLast() else { return nil }
        cachedBytes -= size
        return (p, size)
    }

    /// Keeps a freed block for reuse; false when it does not fit (the caller frees it).
    static func give(_ p: UnsafeMutableRawPointer, _ bucket: Int) -> Bool {
        pthread_mutex_lock(lock)
        defer { pthread_mutex_unlock(lock) }
        if cachedBytes + bucket > capacity {
            // blocks of other sizes are likely stale (shapes changed): make room from them
            for (size, list) in blocks where size != bucket {
                for q in list { free(q) }
                cachedBytes -= size * list.count
                blocks[size] = nil
                if cachedBytes + bucket <= capacity { break }
            }
        }
        guard cachedBytes + bucket <= capacity else { return false }
        blocks[bucket, default: []].append(p)
        cachedBytes += bucket
        return true
    }

    /// Returns every cached block to the system.
    public static func clear() {
        pthread_mutex_lock(lock)
        defer { pthread_mutex_unlock(lock) }
        for (_, list) in blocks { for q in list { free(q) } }
        blocks = [:]
        cachedBytes = 0
    }
}
