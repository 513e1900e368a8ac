// WeightsFileError: the one error type of the weights readers and writers; it names the file and
// what is wrong with it, so a user can tell a truncated download from a wrong path.

public struct WeightsFileError: Error, CustomStringConvertible, Equatable {
    /// the file being read or written
    public let path: String
    /// what was wrong, with the offsets, sizes or names involved
    public let message: String

    public init(_ path: String, _ message: String) {
        self.path = path
        self.message = message
    }

    public var description: String { "\(path): \(message)" }
}
