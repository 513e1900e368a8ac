// DataError: a problem in a data file, located as `file:line: what` (the form compilers and
// validators use, so editors jump to it).

public struct DataError: Error, CustomStringConvertible, Equatable {
    /// the path as given by the caller
    public let file: String
    /// 1-based line number; 0 when the problem is with the file as a whole
    public let line: Int
    public let message: String

    public init(_ file: String, line: Int, _ message: String) {
        self.file = file
        self.line = line
        self.message = message
    }

    public var description: String { line > 0 ? "\(file):\(line): \(message)" : "\(file): \(message)" }
}
