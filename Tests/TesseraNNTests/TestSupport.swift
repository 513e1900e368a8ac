// TestSupport (NN): the module gradient check; the shared helpers of TesseraTestSupport are
// re-exported to every file of this target.

import Testing
import TesseraNN
import TesseraTensor
@_exported import TesseraTestSupport

/// gradCheck of a module's forward: the inputs are checked, and so are the module's parameters
/// (converted to f64 first) through the same finite differences.
func moduleGradCheck(
    _ module: Module, _ inputs: [Tensor], atol: Double = 1e-6, rtol: Double = 1e-5,
    sourceLocation: SourceLocation = #_sourceLocation,
    _ f: ([Tensor]) throws -> Tensor
) throws {
    try module.to(.f64)
    let params = module.trainableParameters().map(\.tensor)
    try gradCheck(
        { xs in try f(Array(xs.prefix(inputs.count))) }, inputs + params, atol: atol, rtol: rtol,
        sourceLocation: sourceLocation)
}
