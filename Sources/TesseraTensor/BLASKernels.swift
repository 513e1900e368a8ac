// BLASKernels: making sure OpenBLAS runs the kernels this CPU can run. Debian's OpenBLAS 0.3.21
// picks its kernels from a table of CPU models; on a CPU newer than the table it falls back to
// generic SSE3 ("Prescott") kernels, measured here at 64 GFLOPS against 250-300 with its own
// AVX-512 (SkylakeX) kernels on the same Xeon. Its idle worker threads also spin, calling
// sched_yield, for 2^28 cycles after every call, taking the second core from our own kernels in
// between (training steps measured 10-15% faster, small-tensor Lua loops 1.5x, with 2^20). Both are read from the
// environment when the library loads, before main runs, so the remedy is to start again with
// OPENBLAS_CORETYPE and OPENBLAS_THREAD_TIMEOUT set; values the user set are never changed.

import CBLAS
#if canImport(Glibc)
    import Glibc
#endif

public enum BLASKernels {
    /// the kernel family OpenBLAS chose (e.g. "Haswell", "SkylakeX", "Prescott")
    public static var coreName: String {
        guard let p = openblas_get_corename() else { return "unknown" }
        return String(cString: p)
    }

    /// The kernel family to ask for instead of the generic fallback, or nil when OpenBLAS chose
    /// well, the user chose (OPENBLAS_CORETYPE is set, perhaps because this OpenBLAS is known to
    /// misbehave on this CPU), or the CPU has nothing better.
    public static func betterCoreType() -> String? {
        guard getenv("OPENBLAS_CORETYPE") == nil, coreName == "Prescott" else { return nil }
        let flags = cpuFlags()
        if ["avx512f", "avx512dq", "avx512bw", "avx512vl"].allSatisfy(flags.contains) { return "SkylakeX" }
        if flags.contains("avx2") && flags.contains("fma") { return "Haswell" }
        return nil
    }

    /// log2 of the cycles an idle OpenBLAS thread spins before sleeping (default 28, minimum 4):
    /// 2^20 (about 0.3 ms) still bridges the short gaps between the BLAS calls of one step, and
    /// frees the core soon after (measured: 4 made small back-to-back products slower; 28 costs
    /// a third of the speed of small-tensor loops in Lua)
    static let threadTimeout = "20"

    /// Restarts this program once with better OpenBLAS settings: kernels when `betterCoreType()`
    /// names some, a short idle spin unless the user chose one. Returns (and the program goes on
    /// as it is) when there is nothing to change or exec fails.
    public static func restartWithBetterSettingsIfNeeded() {
        let core = betterCoreType()
        let spin = getenv("OPENBLAS_THREAD_TIMEOUT") == nil && getenv("GOTO_THREAD_TIMEOUT") == nil
        guard core != nil || spin else { return }
        if let core { setenv("OPENBLAS_CORETYPE", core, 1) }
        if spin { setenv("OPENBLAS_THREAD_TIMEOUT", threadTimeout, 1) }
        // the raw argv: CommandLine.arguments would repair (and so change) non-UTF-8 bytes
        execv("/proc/self/exe", CommandLine.unsafeArgv)
        // exec failed: go on with the kernels we have (the variable stays for child processes)
    }

    /// the CPU feature flags of the first processor in /proc/cpuinfo
    static func cpuFlags() -> Set<String> {
        guard let f = fopen("/proc/cpuinfo", "r") else { return [] }
        defer { fclose(f) }
        var line: UnsafeMutablePointer<CChar>? = nil
        var cap = 0
        defer { free(line) }
        while getline(&line, &cap, f) > 0, let l = line {
            let s = String(cString: l)
            if s.hasPrefix("flags") {
                return Set(s.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\n" || $0 == ":" }).map(String.init))
            }
        }
        return []
    }
}
