/// Errors raised at the tensor API: shape disagreements and allocation failures.
public enum TensorError: Error, Sendable, Equatable, CustomStringConvertible {
    /// `operation` needed `expected` for `argument` but got `actual`.
    case shapeMismatch(operation: String, argument: String, expected: String, actual: [Int])
    /// An argument that is not a shape (stride, groups, heads...) is invalid.
    case invalidArgument(operation: String, reason: String)
    /// The element count overflows.
    case tooLarge(elements: Int)
    case outOfMemory(bytes: Int)

    public var description: String {
        switch self {
        case .shapeMismatch(let op, let arg, let expected, let actual):
            "\(op): \(arg) must be \(expected), got \(actual)"
        case .invalidArgument(let op, let reason): "\(op): \(reason)"
        case .tooLarge(let elements): "tensor of \(elements) elements is too large"
        case .outOfMemory(let bytes): "out of memory allocating \(bytes) bytes"
        }
    }
}
