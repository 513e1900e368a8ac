// Losses: cross-entropy (the fused TesseraTensor op), mean squared error, and the distillation
// losses between student and teacher logits at a temperature (Hinton et al., 2015): KL divergence
// and soft cross-entropy, both scaled by T² so gradients keep their size as T changes.

import TesseraTensor

/// Cross-entropy of class ids `targets` (...) under `logits` (..., C), fused with log-softmax.
/// logits (..., C), targets (...) -> () (mean, sum) or (...) (none)
public func crossEntropy(
    _ logits: Tensor, _ targets: Tensor, ignoreIndex: Int? = -100, labelSmoothing: Double = 0,
    reduction: LossReduction = .mean
) throws -> Tensor {
    try logits.crossEntropy(targets, ignoreIndex: ignoreIndex, labelSmoothing: labelSmoothing, reduction: reduction)
}

/// (prediction - target)² reduced.
/// prediction (shape), target (shape) -> () or (shape)
public func mseLoss(_ prediction: Tensor, _ target: Tensor, reduction: LossReduction = .mean) throws -> Tensor {
    guard prediction.shape == target.shape else {
        throw TensorError("mse_loss", "prediction has shape \(dimsString(prediction.shape)), target \(dimsString(target.shape))")
    }
    let sq = try prediction.sub(target).square()
    switch reduction {
    case .mean: return try sq.mean()
    case .sum: return try sq.sum()
    case .none: return sq
    }
}

/// KL(teacher ‖ student) of the temperature-softened distributions, summed over classes and
/// averaged over rows (torch's kl_div with reduction 'batchmean' on 2-D logits), times T².
/// The teacher gets no gradient.
/// student (..., C), teacher (..., C) -> ()
public func klDivergence(student: Tensor, teacher: Tensor, temperature: Double = 1) throws -> Tensor {
    let (logS, logT) = try softened(student, teacher, temperature, op: "kl_div")
    let rows = Double(student.numel / Swift.max(student.shape[student.rank - 1], 1))
    return try logT.exp().mul(logT.sub(logS)).sum().mul(temperature * temperature / rows)
}

/// -Σ p_teacher · log p_student over classes, averaged over rows, times T² (the teacher gets no gradient).
/// student (..., C), teacher (..., C) -> ()
public func softCrossEntropy(student: Tensor, teacher: Tensor, temperature: Double = 1) throws -> Tensor {
    let (logS, logT) = try softened(student, teacher, temperature, op: "soft_cross_entropy")
    let rows = Double(student.numel / Swift.max(student.shape[student.rank - 1], 1))
    return try logT.exp().mul(logS).sum().mul(-temperature * temperature / rows)
}

/// log-softmax of student / T and of the detached teacher / T
private func softened(_ student: Tensor, _ teacher: Tensor, _ temperature: Double, op: String) throws -> (Tensor, Tensor) {
    guard student.rank >= 1, student.shape == teacher.shape else {
        throw TensorError(
            op, "student logits \(dimsString(student.shape)) and teacher logits \(dimsString(teacher.shape)) must have the same shape (..., C)")
    }
    guard temperature > 0 else { throw TensorError(op, "temperature must be positive, got \(temperature)") }
    return (try student.div(temperature).logSoftmax(-1), try teacher.detach().div(temperature).logSoftmax(-1))
}
