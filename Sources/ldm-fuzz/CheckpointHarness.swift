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
