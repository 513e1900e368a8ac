// ModelInputs: the checks a model runs on the token ids and masks it is given, so a wrong shape
// or dtype is reported in the model's terms rather than from deep inside a kernel.

import TesseraTensor

/// ids must be integer (B, T) with T ≥ 1; masks and token type ids, when given, (B, T) as well.
func checkTokenInputs(_ ids: Tensor, _ others: [(name: String, tensor: Tensor?)], op: String) throws {
    guard ids.rank == 2, ids.shape[1] > 0, !ids.dtype.isFloatingPoint, ids.dtype != .bool else {
        throw TensorError(op, "expects integer token ids (B, T), got \(ids.dtype) \(dimsString(ids.shape))")
    }
    for (name, t) in others {
        if let t, t.shape != ids.shape {
            throw TensorError(op, "\(name) has shape \(dimsString(t.shape)), token ids \(dimsString(ids.shape))")
        }
    }
}
