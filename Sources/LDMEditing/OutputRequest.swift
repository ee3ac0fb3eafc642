/// What the written file does to the result's samples: bit depth and JPEG quality.
public struct OutputRequest: Sendable, Equatable {
    /// 8 or 16 to convert every output; nil keeps the input's depth.
    public private(set) var bitDepth: Int?
    /// JPEG quality; it changes only JPEG files (see `forFile(isJPEG:)`).
    public private(set) var jpegQuality: Int?

    public static let keep = OutputRequest()

    public init(bitDepth: Int? = nil, jpegQuality: Int? = nil) throws(RequestError) {
        if let bitDepth, bitDepth != 8, bitDepth != 16 { throw .bitDepth(bitDepth) }
        if let jpegQuality, !(1...100).contains(jpegQuality) { throw .jpegQuality(jpegQuality) }
        self.bitDepth = bitDepth
        self.jpegQuality = jpegQuality
    }

    private init() {}

    /// This request for one output file: the JPEG quality is dropped where it changes nothing, so
    /// a PNG's resume key does not depend on it.
    public func forFile(isJPEG: Bool) -> OutputRequest {
        var copy = self
        if !isJPEG { copy.jpegQuality = nil }
        return copy
    }
}
