import Foundation

/// Which model an edit uses: where it was loaded from, the SHA-256 of its bytes (what identifies
/// it; the path does not), whether its EMA weights are used and whether they are held as float16.
public struct ModelReference: Sendable, Equatable {
    /// The file or diffusers folder as given (provenance records only its last path component).
    public var path: String
    /// `sha256sum` of a single file; for a folder, of the sorted "<relative path> <sha256>" lines of
    /// its JSON and weight files (`ContentHash`).
    public var sha256: String
    /// CompVis checkpoints carry EMA weights next to the raw ones; false uses the raw ones.
    public var useEMA: Bool
    /// The weights held as float16 (`WeightPrecision.float16`: a float32 checkpoint narrowed at load, which changes
    /// its results by that rounding; 16-bit files are unaffected).
    public var halfWeights: Bool

    public init(path: String, sha256: String, useEMA: Bool = true, halfWeights: Bool = false) {
        self.path = path
        self.sha256 = sha256
        self.useEMA = useEMA
        self.halfWeights = halfWeights
    }

    /// The model at `path`, hashed (large files through `HashCache`).
    public init(hashing path: String, useEMA: Bool = true, halfWeights: Bool = false) throws(EditError) {
        self.init(path: path, sha256: try ContentHash.sha256(ofModel: path), useEMA: useEMA, halfWeights: halfWeights)
    }

    /// The name provenance records: the file or folder name, not where it lives.
    public var name: String { (path as NSString).lastPathComponent }
}
