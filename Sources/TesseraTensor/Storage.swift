// Storage: one aligned, owned block of memory that tensors view; freed when the last view goes.

#if canImport(Glibc)
    import Glibc
#endif

public final class Storage {
    /// start of the block: 64-byte aligned (one cache line) above 256 bytes, 16-byte below
    public let base: UnsafeMutableRawPointer
    /// size of the block in bytes
    public let byteCount: Int
    /// bytes actually allocated (rounded up to the cache's bucket for large blocks)
    let blockSize: Int

    /// Total bytes currently held by all storages: the Lua layer drives its collector from this.
    nonisolated(unsafe) public private(set) static var liveBytes: Int = 0
    /// The most bytes storages have held at once (sizes the block cache).
    nonisolated(unsafe) public private(set) static var peakLiveBytes: Int = 0

    /// Allocates `byteCount` bytes, zeroed if `zeroed`. Throws instead of trapping when the
    /// request is larger than the machine's memory or the allocator refuses it.
    init(byteCount: Int, zeroed: Bool, op: String) throws {
        // Linux overcommits: a block larger than free memory is granted and then kills the
        // process when touched. Refuse what the machine cannot hold alongside live tensors
        // (after giving back cached blocks).
        let limit = Storage.physicalMemory
        if byteCount > limit - Swift.min(limit, Storage.liveBytes + BlockCache.cachedBytes) { BlockCache.clear() }
        guard byteCount <= limit - Swift.min(limit, Storage.liveBytes) else {
            throw TensorError(
                op, "cannot allocate \(byteCount) bytes: this machine has \(limit) bytes of memory and tensors already hold \(Storage.liveBytes)")
        }
        var n = max(byteCount, 64)
        let cached = n >= BlockCache.minimumSize
        if cached { n = BlockCache.bucket(n) }
        var p: UnsafeMutableRawPointer? = nil
        if cached, let (block, size) = BlockCache.take(n) { (p, n) = (block, size) }
        if p == nil {
            // large blocks start on a 2 MiB boundary and ask for transparent huge pages (fewer
            // faults); small ones come from plain malloc (16-byte aligned): posix_memalign's
            // slow path costs more than a small op itself
            let huge = n >= Storage.hugePageThreshold
            if n <= 256 { p = malloc(n) } else if posix_memalign(&p, huge ? 1 << 21 : 64, n) != 0 { p = nil }
            if huge, let fresh = p { _ = madvise(fresh, n, MADV_HUGEPAGE) }
        }
        guard let ptr = p else {
            throw TensorError(op, "out of memory allocating \(byteCount) bytes")
        }
        if zeroed { memset(ptr, 0, n) }
        base = ptr
        self.byteCount = byteCount
        blockSize = n
        Storage.liveBytes &+= byteCount
        if Storage.liveBytes > Storage.peakLiveBytes { Storage.peakLiveBytes = Storage.liveBytes }
    }

    deinit {
        Storage.liveBytes &-= byteCount
        if blockSize < BlockCache.minimumSize || !BlockCache.give(base, blockSize) { free(base) }
    }

    /// blocks from this size up are huge-page aligned
    static let hugePageThreshold = 4 << 20

    /// physical memory in bytes: no single tensor may be larger
    static let physicalMemory: Int = {
        let pages = sysconf(Int32(_SC_PHYS_PAGES))
        let size = sysconf(Int32(_SC_PAGESIZE))
        return pages > 0 && size > 0 ? pages * size : Int.max
    }()
}
