import Foundation
import LDMModels

/// Harnesses for the checkpoint parsers. Inputs are copied to an exact-size heap block
/// (`MappedFile(path:copying:)`) so AddressSanitizer sees any read past the end.
enum CheckpointHarness {
    static let path = "fuzz-input"

    static func safetensors(_ data: UnsafeRawBufferPointer) -> Bool {
        let file = MappedFile(path: path, copying: data)
        guard let source = try? SafetensorsFile(file: file) else { return false }
        loadAll(source)
        return true
    }

    static func zip(_ data: UnsafeRawBufferPointer) -> Bool {
        let file = MappedFile(path: path, copying: data)
        guard let archive = try? ZipArchive(file) else { return false }
        // The reader promises every entry's byte range lies inside the file: touch both ends.
        var sum: UInt8 = 0
        for entry in archive.entries.values where entry.size > 0 {
            sum &+= file.bytes[entry.dataOffset] &+ file.bytes[entry.dataOffset + entry.size - 1]
        }
        blackHole(sum)
        return true
    }

    static func unpickler(_ data: UnsafeRawBufferPointer) -> Bool {
        var unpickler = Unpickler(path: path, data: data)
        guard let value = try? unpickler.run() else { return false }
        blackHole(value)
        return true
    }

    static func torch(_ data: UnsafeRawBufferPointer) -> Bool {
        let file = MappedFile(path: path, copying: data)
        guard let source = try? TorchCheckpoint(file: file) else { return false }
        loadAll(source)
        return true
    }

    /// A file with no tensors, to open a config against: a config that passes validation and the
    /// layout walk ends in the audit, which lists every parameter as missing.
    static let empty: SafetensorsFile? = {
        let bytes: [UInt8] = [8, 0, 0, 0, 0, 0, 0, 0] + Array("{}      ".utf8)
        return bytes.withUnsafeBytes { try? SafetensorsFile(file: MappedFile(path: path, copying: $0)) }
    }()

    /// The input read the two ways a config arrives in a file. The parameter counts are summed with
    /// trapping arithmetic, so a config the validation lets through with overflowing shapes crashes.
    /// Accepted: a diffusers config that reads, or a canonical one that gets as far as the audit.
    static func config(_ data: UnsafeRawBufferPointer) -> Bool {
        var accepted = false
        if let json = (try? JSONSerialization.jsonObject(with: Data(data))) as? [String: Any] {
            if let unet = try? DiffusersConfig.unet(json, path: path) {
                blackHole(count(UNetLayout.parameters(unet)))
                accepted = true
            }
            if let vq = try? DiffusersConfig.autoencoder(json, path: path) {
                blackHole(count(AutoencoderLayout.parameters(vq)))
                accepted = true
            }
        }
        guard let empty else { return accepted }
        do {
            blackHole(try ModelWeights.openCanonical(empty, config: String(decoding: data, as: UTF8.self)))
        } catch {
            blackHole(error.description)  // an audit report lists shapes, as `inspect` prints them
            if case .auditFailed(_, let audit) = error { accepted = true; blackHole(audit.missing.count) }
        }
        return accepted
    }

    private static func count(_ specs: [ParameterSpec]) -> Int { specs.reduce(0) { $0 + $1.shape.reduce(1, *) } }

    /// Loads every floating-point tensor: the infos a parser accepted must be safe to read.
    /// Bounded by the input: a valid tensor's bytes lie inside the (small) file.
    private static func loadAll(_ source: any WeightSource) {
        for name in source.names {
            if let tensor = try? source.load(name) { blackHole(tensor.count) }
        }
    }
}

/// Keeps the optimiser from dropping work whose result is otherwise unused.
@inline(never)
func blackHole<T>(_ value: T) {
    withExtendedLifetime(value) {}
}
