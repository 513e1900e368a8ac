// Random: a seeded generator (xoshiro256**, seeded through splitmix64) whose streams are
// bit-identical run to run, and the sampling ops built on it. Sampling runs on one thread in
// element order, so a seed fixes every value regardless of the core count.

#if canImport(Glibc)
    import Glibc
#endif

public final class Generator {
    private var s0: UInt64 = 0, s1: UInt64 = 0, s2: UInt64 = 0, s3: UInt64 = 0
    /// a second normal from the last Box-Muller pair, if unused
    private var spareNormal: Double?
    /// the seed last set
    public private(set) var seed: UInt64

    /// The generator every sampling op uses unless given another.
    nonisolated(unsafe) public static let shared = Generator(seed: 0x5EED)

    public init(seed: UInt64) {
        self.seed = seed
        manualSeed(seed)
    }

    /// Restarts the stream: the same seed gives the same values.
    public func manualSeed(_ seed: UInt64) {
        self.seed = seed
        var x = seed
        func splitmix() -> UInt64 {
            x &+= 0x9E37_79B9_7F4A_7C15
            var z = x
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        s0 = splitmix(); s1 = splitmix(); s2 = splitmix(); s3 = splitmix()
        spareNormal = nil
    }

    @inline(__always)
    public func next() -> UInt64 {
        let result = ((s1 &* 5) << 7 | (s1 &* 5) >> 57) &* 9
        let t = s1 << 17
        s2 ^= s0; s3 ^= s1; s1 ^= s2; s0 ^= s3
        s2 ^= t
        s3 = (s3 << 45) | (s3 >> 19)
        return result
    }

    /// uniform in [0, 1) with 53 random bits
    @inline(__always)
    public func nextDouble() -> Double { Double(next() >> 11) * 0x1.0p-53 }

    /// uniform in [0, 1) with 24 random bits
    @inline(__always)
    public func nextFloat() -> Float { Float(next() >> 40) * 0x1.0p-24 }

    /// uniform integer in 0..<n without modulo bias (Lemire's method)
    public func nextInt(below n: UInt64) -> UInt64 {
        guard n > 0 else { return 0 }  // an empty range has only its start
        var m = next().multipliedFullWidth(by: n)
        if m.low < n {
            let t = (0 &- n) % n
            while m.low < t { m = next().multipliedFullWidth(by: n) }
        }
        return m.high
    }

    /// standard normal (Box-Muller, both values used)
    public func nextNormal() -> Double {
        if let s = spareNormal { spareNormal = nil; return s }
        let u1 = 1 - nextDouble()  // (0, 1]: log is finite
        let u2 = nextDouble()
        let r = Glibc.sqrt(-2 * Glibc.log(u1))
        spareNormal = r * Glibc.sin(2 * .pi * u2)
        return r * Glibc.cos(2 * .pi * u2)
    }
}

/// Seeds the shared generator (torch.manual_seed).
public func manualSeed(_ seed: UInt64) { Generator.shared.manualSeed(seed) }

extension Tensor {
    /// Uniform samples in [low, high).
    public static func rand(
        _ shape: [Int], low: Double = 0, high: Double = 1, dtype: DType = .f32,
        generator: Generator = .shared
    ) throws -> Tensor {
        guard dtype.isFloatingPoint else { throw TensorError("rand", "needs a floating-point dtype, got \(dtype)") }
        let t = try empty(shape, dtype: dtype, op: "rand")
        let span = high - low
        if dtype == .f32 {
            let p = t.mutablePointer(Float.self)
            let (lo, sp) = (Float(low), Float(span))
            for i in 0..<t.numel { p[i] = lo + sp * generator.nextFloat() }
        } else {
            let p = t.mutablePointer(Double.self)
            for i in 0..<t.numel { p[i] = low + span * generator.nextDouble() }
        }
        return t
    }

    /// Normal samples with the given mean and standard deviation.
    public static func randn(
        _ shape: [Int], mean: Double = 0, std: Double = 1, dtype: DType = .f32,
        generator: Generator = .shared
    ) throws -> Tensor {
        guard dtype.isFloatingPoint else { throw TensorError("randn", "needs a floating-point dtype, got \(dtype)") }
        let t = try empty(shape, dtype: dtype, op: "randn")
        if dtype == .f64 {
            for i in 0..<t.numel { t.setFlat(i, mean + std * generator.nextNormal()) }
            return t
        }
        // f32: the uniforms are drawn in order on one thread (so a seed fixes every value), then
        // Box-Muller runs as a vectorised elementwise pass over the pairs
        let n = t.numel
        let pairs = (n + 1) / 2
        let u = UnsafeMutablePointer<Float>.allocate(capacity: 2 * pairs)
        defer { u.deallocate() }
        for i in 0..<2 * pairs { u[i] = generator.nextFloat() }
        let o = t.mutablePointer(Float.self)
        let (m, s) = (Float(mean), Float(std))
        // u1 = 1 - u in (0, 1] keeps the log finite
        Parallel.forRanges(n / 2, grain: 1 << 14) { r in
            for i in r {
                let (z0, z1) = boxMuller(1 - u[2 * i], u[2 * i + 1])
                o[2 * i] = m + s * z0
                o[2 * i + 1] = m + s * z1
            }
        }
        if n % 2 == 1 { o[n - 1] = m + s * boxMuller(1 - u[n - 1], u[n]).0 }
        return t
    }

    /// Integers uniform in [low, high).
    public static func randint(
        _ low: Int, _ high: Int, _ shape: [Int], dtype: DType = .i64,
        generator: Generator = .shared
    ) throws -> Tensor {
        guard high > low else { throw TensorError("randint", "high (\(high)) must be greater than low (\(low))") }
        let t = try empty(shape, dtype: dtype, op: "randint")
        // high - low can exceed Int.max (e.g. Int.min..<Int.max) but always fits a UInt64;
        // low + draw < high, so the wrapping add is exact
        let span = UInt64(bitPattern: Int64(high &- low))
        for i in 0..<t.numel { t.setFlat(i, Double(low &+ Int(truncatingIfNeeded: generator.nextInt(below: span)))) }
        return t
    }

    /// A random permutation of 0..<n (Fisher-Yates), as i64.
    public static func randperm(_ n: Int, generator: Generator = .shared) throws -> Tensor {
        guard n >= 0 else { throw TensorError("randperm", "n must be non-negative, got \(n)") }
        let t = try arange(0, Double(n), dtype: .i64)
        let p = t.mutablePointer(Int64.self)
        var i = n - 1
        while i > 0 {
            let j = Int(generator.nextInt(below: UInt64(i + 1)))
            (p[i], p[j]) = (p[j], p[i])
            i -= 1
        }
        return t
    }

    /// 1 with probability p (this tensor's values, in [0, 1]), else 0; same dtype as self.
    public func bernoulli(generator: Generator = .shared) throws -> Tensor {
        let probs = try (dtype.isFloatingPoint ? self : to(.f32)).detach().contiguous().toDoubles()
        guard probs.allSatisfy({ $0 >= 0 && $0 <= 1 }) else {
            throw TensorError("bernoulli", "probabilities must lie in [0, 1]")
        }
        let out = try Tensor.empty(shape, dtype: dtype.isFloatingPoint ? dtype : .f32, op: "bernoulli")
        for (i, p) in probs.enumerated() { out.setFlat(i, generator.nextDouble() < p ? 1 : 0) }
        return out
    }

    /// A tensor of `shape` with 1 with probability p, else 0.
    public static func bernoulli(_ shape: [Int], p: Double, dtype: DType = .f32, generator: Generator = .shared) throws -> Tensor {
        guard p >= 0 && p <= 1 else { throw TensorError("bernoulli", "probability must lie in [0, 1], got \(p)") }
        let out = try empty(shape, dtype: dtype, op: "bernoulli")
        if dtype == .f32 {
            // dropout's masks: the generator step is the cost, so no per-element dtype switch
            let o = out.mutablePointer(Float.self)
            for i in 0..<out.numel { o[i] = generator.nextDouble() < p ? 1 : 0 }
        } else {
            for i in 0..<out.numel { out.setFlat(i, generator.nextDouble() < p ? 1 : 0) }
        }
        return out
    }

    /// `numSamples` category indices per row drawn from the (unnormalised, non-negative) weights
    /// of this 1-D or 2-D tensor; without replacement each index appears at most once per row.
    public func multinomial(_ numSamples: Int, replacement: Bool = false, generator: Generator = .shared) throws -> Tensor {
        guard rank == 1 || rank == 2 else {
            throw TensorError("multinomial", "expects a 1-D or 2-D tensor of weights, got shape \(shapeString(shape))")
        }
        let w2 = try (rank == 1 ? unsqueeze(0) : self).detach()
        let (rows, cats) = (w2.shape[0], w2.shape[1])
        guard numSamples >= 0, replacement || numSamples <= cats else {
            throw TensorError("multinomial", "cannot draw \(numSamples) samples without replacement from \(cats) categories")
        }
        let weights = try w2.to(.f64).contiguous().toDoubles()
        guard weights.allSatisfy({ $0 >= 0 && $0.isFinite }) else {
            throw TensorError("multinomial", "weights must be finite and non-negative")
        }
        let out = try Tensor.empty([rows, numSamples], dtype: .i64, op: "multinomial")
        let op = out.mutablePointer(Int64.self)
        for r in 0..<rows {
            var w = Array(weights[(r * cats)..<((r + 1) * cats)])
            for s in 0..<numSamples {
                let total = w.reduce(0, +)
                guard total > 0 else { throw TensorError("multinomial", "row \(r) has no positive weight left to sample from") }
                var u = generator.nextDouble() * total
                var pick = cats - 1
                for c in 0..<cats where w[c] > 0 {
                    if u < w[c] { pick = c; break }
                    u -= w[c]
                }
                while w[pick] == 0 { pick -= 1 }  // rounding at the end of the cumulative sum
                op[r * numSamples + s] = Int64(pick)
                if !replacement { w[pick] = 0 }
            }
        }
        return rank == 1 ? try out.reshape([numSamples]) : out
    }

    /// Inverted dropout: in training, zeroes each element with probability p and scales the rest
    /// by 1/(1-p); the identity otherwise.
    public func dropout(_ p: Double, training: Bool = true, generator: Generator = .shared) throws -> Tensor {
        guard p >= 0 && p <= 1 else { throw TensorError("dropout", "probability must lie in [0, 1], got \(p)") }
        guard training && p > 0 else { return self }
        if p == 1 { return try mul(0) }
        let mask = try Tensor.bernoulli(shape, p: 1 - p, dtype: dtype, generator: generator).mul(1 / (1 - p))
        return try mul(mask)
    }
}

/// Two independent standard normals from uniforms u1 in (0, 1] and u2 in [0, 1):
/// sqrt(-2 ln u1) · (cos 2πu2, sin 2πu2), with branch-free f32 log and sincos that vectorise.
@inline(__always)
func boxMuller(_ u1: Float, _ u2: Float) -> (Float, Float) {
    let radius = (-2 * logUnit(u1)).squareRoot()
    let (s, c) = sinCosTurns(u2)
    return (radius * c, radius * s)
}

/// ln x for x in (0, 1] (normal floats): x = m·2^e with m in [√½, √2), ln m by the atanh series
/// of s = (m-1)/(m+1), |s| < 0.172; error below 1e-7 absolute.
@inline(__always)
func logUnit(_ x: Float) -> Float {
    let bits = x.bitPattern
    var e = Int32(bitPattern: (bits >> 23) & 0xFF) &- 127
    var m = Float(bitPattern: (bits & 0x7F_FFFF) | 0x3F80_0000)  // [1, 2)
    let big = m > 1.41421356
    m = big ? m * 0.5 : m
    e = big ? e &+ 1 : e
    let s = (m - 1) / (m + 1)
    let s2 = s * s
    var p: Float = 1.0 / 9
    p = Float(1.0 / 7).addingProduct(p, s2)
    p = Float(1.0 / 5).addingProduct(p, s2)
    p = Float(1.0 / 3).addingProduct(p, s2)
    p = Float(1).addingProduct(p, s2)
    return (Float(e) * 0.69314718).addingProduct(2 * s, p)
}

/// (sin 2πt, cos 2πt) for t in [0, 1): reduce to a quadrant and an angle in [-π/4, π/4], then
/// Taylor polynomials (error below 4e-7).
@inline(__always)
func sinCosTurns(_ t: Float) -> (Float, Float) {
    let q = (t * 4).rounded(.toNearestOrEven)  // quadrant 0...4 (ties-to-even maps to vroundps)
    let phi = (t - q * 0.25) * 6.28318531  // [-π/4, π/4]
    let p2 = phi * phi
    var sp: Float = -1.0 / 5040
    sp = Float(1.0 / 120).addingProduct(sp, p2)
    sp = Float(-1.0 / 6).addingProduct(sp, p2)
    let sinPhi = phi.addingProduct(phi * p2, sp)
    var cp: Float = 1.0 / 40320
    cp = Float(-1.0 / 720).addingProduct(cp, p2)
    cp = Float(1.0 / 24).addingProduct(cp, p2)
    cp = Float(-0.5).addingProduct(cp, p2)
    let cosPhi = Float(1).addingProduct(p2, cp)
    // rotate by k quarter turns: sin is (s, c, -s, -c)[k], cos is (c, -s, -c, s)[k]; written
    // as selects on bits of k so the loop stays vectorised
    let k = Int32(q) & 3
    let swap = (k & 1) != 0
    let a = swap ? cosPhi : sinPhi, b = swap ? sinPhi : cosPhi
    let sinT = (k & 2) != 0 ? -a : a
    let cosT = ((k &+ 1) & 2) != 0 ? -b : b
    return (sinT, cosT)
}
