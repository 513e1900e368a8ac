// TensorError: the one error type of the tensor layer; the message names the op and the shapes.

public struct TensorError: Error, CustomStringConvertible, Equatable {
    /// the operation that failed, as users call it (`matmul`, `reshape`, ...)
    public let op: String
    /// what was wrong, naming the shapes, dtypes or indices involved
    public let message: String

    public init(_ op: String, _ message: String) {
        self.op = op
        self.message = message
    }

    public var description: String { "\(op): \(message)" }
}

/// `2x3x4` (and `scalar` for a 0-d shape): how shapes read in error messages.
func shapeString(_ shape: [Int]) -> String {
    shape.isEmpty ? "scalar" : shape.map(String.init).joined(separator: "x")
}
