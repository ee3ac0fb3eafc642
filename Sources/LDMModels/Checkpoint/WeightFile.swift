/// Opens any supported single weight file, recognising the format from its first bytes.
public enum WeightFile {
    public static func open(_ path: String) throws(CheckpointError) -> any WeightSource {
        let file = try MappedFile(path: path)
        guard file.count >= 8 else { throw .unknownFormat(path: path, hint: "file is only \(file.count) bytes") }
        if file.le(UInt32.self, at: 0) == 0x0403_4B50 { return try TorchCheckpoint(file: file) }
        // A safetensors header is a JSON object; a file named .safetensors gets that parser's precise
        // complaint even when its header is damaged.
        if (file.count > 8 && file.bytes[8] == UInt8(ascii: "{")) || path.lowercased().hasSuffix(".safetensors") {
            return try SafetensorsFile(file: file)
        }
        if file.bytes[0] == 0x80 {  // a bare pickle (PROTO opcode): the legacy torch.save format
            throw .unknownFormat(path: path, hint: "a legacy (pre-1.6) torch.save file; re-save it with a current torch")
        }
        throw .unknownFormat(path: path, hint: "expected .safetensors or a PyTorch zip checkpoint")
    }
}
