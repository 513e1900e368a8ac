// Parallel: splits large kernels over the cores; small ones run inline and pay no threading cost.

import Dispatch
#if canImport(Glibc)
    import Glibc
#endif

public enum Parallel {
    /// cores online (2 on the project's machines)
    public static let cores: Int = max(1, sysconf(Int32(_SC_NPROCESSORS_ONLN)))

    /// Runs `body` over consecutive sub-ranges of 0..<n. The range is split only when each core
    /// gets at least `grain` items, so a cheap op on a small tensor stays on the calling thread.
    @inline(__always)
    public static func forRanges(_ n: Int, grain: Int = 1 << 16, _ body: (Range<Int>) -> Void) {
        let chunks = min(cores, n / max(grain, 1))
        if chunks <= 1 {
            if n > 0 { body(0..<n) }
            return
        }
        let per = (n + chunks - 1) / chunks
        DispatchQueue.concurrentPerform(iterations: chunks) { c in
            let lo = c * per
            let hi = min(n, lo + per)
            if lo < hi { body(lo..<hi) }
        }
    }
}

/// Cooperative cancellation: Ctrl-C sets the flag (from a signal handler, hence a raw
/// sig_atomic_t), long kernels poll it between blocks and throw.
public enum Cancellation {
    public static let flag: UnsafeMutablePointer<sig_atomic_t> = {
        let p = UnsafeMutablePointer<sig_atomic_t>.allocate(capacity: 1)
        p.initialize(to: 0)
        return p
    }()

    public static var isRequested: Bool { flag.pointee != 0 }
    public static func request() { flag.pointee = 1 }
    public static func reset() { flag.pointee = 0 }

    /// throws when cancellation was requested, clearing the request
    public static func check(_ op: String) throws {
        if flag.pointee != 0 {
            flag.pointee = 0
            throw TensorError(op, "interrupted")
        }
    }
}
