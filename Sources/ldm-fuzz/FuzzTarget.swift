/// The fuzzed entry points, one per parser a hostile file reaches (docs/fuzzing.md).
///
/// Every harness feeds one input to a parser and lets typed errors pass: a thrown `CheckpointError`
/// or `ImageIOError` is the correct answer to a bad file. Only a real bug ends the process (a Swift
/// trap such as an overflow or out-of-range index, an AddressSanitizer report, a hang, or a
/// runaway allocation), and that is what libFuzzer, or the replay driver, reports.
enum FuzzTarget: String, CaseIterable, Sendable {
    /// `SafetensorsFile(file:)`, then every float tensor loaded.
    case safetensors
    /// `ZipArchive(_:)`, the central-directory reader under PyTorch checkpoints, then every entry's bytes touched.
    case zip
    /// `Unpickler.run()` on raw pickle bytes (no zip around them).
    case unpickler
    /// `TorchCheckpoint(file:)`: zip + unpickler + tensor location checks, then every float tensor loaded.
    case torch
    /// A model config as JSON text, read as a diffusers `config.json` (U-Net and VQ readers, then the
    /// layout walked) and as the `ldm_edit_config` metadata of a converted file (`ModelWeights`).
    case config
    /// `ImageFile.readHeader` and `ImageFile.read` (PNG wrapper in CImageCodecs/png.c).
    case png
    /// The same for JPEG (CImageCodecs/jpeg.c, EXIF orientation included).
    case jpeg
    /// The same for TIFF (CImageCodecs/tiff_read.c).
    case tiff

    /// Runs the harness on one input. Returns whether the parser accepted it (for the replay summary).
    func run(_ data: UnsafeRawBufferPointer) -> Bool {
        switch self {
        case .safetensors: CheckpointHarness.safetensors(data)
        case .zip: CheckpointHarness.zip(data)
        case .unpickler: CheckpointHarness.unpickler(data)
        case .torch: CheckpointHarness.torch(data)
        case .config: CheckpointHarness.config(data)
        case .png, .jpeg, .tiff: ImageHarness.decode(data, extension: rawValue)
        }
    }
}
