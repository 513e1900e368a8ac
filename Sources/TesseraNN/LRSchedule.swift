// LRSchedule: the factor the learning rate is multiplied by at each step, as Hugging Face's
// get_constant_schedule_with_warmup, get_linear_schedule_with_warmup and
// get_cosine_schedule_with_warmup (warm-up ramps linearly from 0 over `warmup` steps).

#if canImport(Glibc)
    import Glibc
#endif

public enum LRSchedule: Sendable, Equatable {
    /// 1 after the warm-up
    case constant(warmup: Int = 0)
    /// decays linearly to 0 at step `total`
    case linear(warmup: Int, total: Int)
    /// half a cosine from 1 down to `minFactor` at step `total`
    case cosine(warmup: Int, total: Int, minFactor: Double = 0)

    /// The factor at 0-based step `step` (the number of optimizer steps already taken).
    public func factor(at step: Int) -> Double {
        switch self {
        case .constant(let warmup):
            return step < warmup ? Double(step) / Double(warmup) : 1
        case .linear(let warmup, let total):
            if step < warmup { return Double(step) / Double(warmup) }
            return Swift.max(0, Double(total - step) / Double(Swift.max(1, total - warmup)))
        case .cosine(let warmup, let total, let minFactor):
            if step < warmup { return Double(step) / Double(warmup) }
            let progress = Swift.min(1, Double(step - warmup) / Double(Swift.max(1, total - warmup)))
            return minFactor + (1 - minFactor) * 0.5 * (1 + Glibc.cos(Double.pi * progress))
        }
    }
}
