// CellTimeout: `tessera run --timeout S` stops a cell that runs longer than S seconds the way
// Ctrl-C does: SIGALRM sends the process SIGINT, which Session's handler turns into the Lua
// hook that raises "interrupted!" (and the flag long Swift kernels poll). Code that never
// reaches a hook or a check (a blocking read) is ended after a grace period, exit status 124.

import TesseraTensor
#if canImport(Glibc)
    import Glibc
#endif

enum CellTimeout {
    /// seconds after the interrupt before the process is ended
    static let graceSeconds: UInt32 = 10
    /// set by the handler when the current cell ran out of time
    static let fired: UnsafeMutablePointer<sig_atomic_t> = {
        let p = UnsafeMutablePointer<sig_atomic_t>.allocate(capacity: 1)
        p.initialize(to: 0)
        return p
    }()
    /// where the handler reports a hard stop (the real stderr while output is captured)
    nonisolated(unsafe) static var reportFD: Int32 = 2

    private static let handler: @convention(c) (Int32) -> Void = { _ in
        if CellTimeout.fired.pointee == 0 {
            CellTimeout.fired.pointee = 1
            kill(getpid(), SIGINT)
            alarm(CellTimeout.graceSeconds)
        } else {
            let msg = "tessera: the cell did not stop after its timeout; exiting\n"
            _ = msg.withCString { write(CellTimeout.reportFD, $0, strlen($0)) }
            _exit(124)
        }
    }

    static func arm(_ seconds: Double) {
        fired.pointee = 0
        signal(SIGALRM, handler)
        var t = itimerval()
        t.it_value.tv_sec = Int(seconds)
        t.it_value.tv_usec = max(1, Int((seconds - Double(Int(seconds))) * 1e6))
        setitimer(__itimer_which_t(ITIMER_REAL.rawValue), &t, nil)
    }

    static func disarm() {
        var t = itimerval()
        setitimer(__itimer_which_t(ITIMER_REAL.rawValue), &t, nil)
        signal(SIGALRM, SIG_DFL)
    }
}
