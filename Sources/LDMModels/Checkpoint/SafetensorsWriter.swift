import Foundation
import LDMTensor

/// Writes a `.safetensors` file tensor by tensor (memory stays at one tensor), to a temporary file
/// renamed into place only when complete.
public enum SafetensorsWriter {
    /// Element types `write` can produce.
    public enum OutputType: String, Sendable, CaseIterable { case f32, f16, bf16 }

    /// - entries: name, shape and a loader called once, in order, when that tensor's bytes are written.
    public static func write(to path: String, entries: [(name: String, shape: [Int])], dtype: OutputType,
                             metadata: [String: String], load: (String) throws -> Tensor) throws {
        let size = dtype == .f32 ? 4 : 2
        var header: [String: Any] = ["__metadata__": metadata]
        var offset = 0
        for e in entries {
            let bytes = e.shape.reduce(1, *) * size
            header[e.name] = ["dtype": dtype.rawValue.uppercased(), "shape": e.shape, "data_offsets": [offset, offset + bytes]]
            offset += bytes
        }
        var json = try JSONSerialization.data(withJSONObject: header, options: [.sortedKeys])
        // Pad with spaces so the data section starts 8-byte aligned (as the reference writer does).
        while (8 + json.count) % 8 != 0 { json.append(UInt8(ascii: " ")) }

        let folder = (path as NSString).deletingLastPathComponent
        let temporary = (folder.isEmpty ? "." : folder) + "/." + (path as NSString).lastPathComponent + ".ldm-edit-\(getpid()).tmp"
        guard FileManager.default.createFile(atPath: temporary, contents: nil), let handle = FileHandle(forWritingAtPath: temporary) else {
            throw CheckpointError.unreadable(path: path, reason: "cannot create \(temporary)")
        }
        do {
            var length = UInt64(json.count).littleEndian
            try handle.write(contentsOf: Data(bytes: &length, count: 8))
            try handle.write(contentsOf: json)
            for e in entries {
                let t = try load(e.name)
                guard t.shape == e.shape else {
                    throw CheckpointError.tensorOutOfBounds(path: path, key: e.name, reason: "loaded \(t.shape), declared \(e.shape)")
                }
                try handle.write(contentsOf: encode(t, dtype))
            }
            try handle.synchronize()
            try handle.close()
            guard rename(temporary, path) == 0 else { throw CheckpointError.unreadable(path: path, reason: String(cString: strerror(errno))) }
        } catch {
            try? handle.close()
            unlink(temporary)
            throw error
        }
    }

    static func encode(_ t: Tensor, _ dtype: OutputType) -> Data {
        let values = t.buffer
        switch dtype {
        case .f32:
            return Data(buffer: UnsafeBufferPointer(values))
        case .f16:
            let halves = values.map { Float16($0).bitPattern.littleEndian }
            return halves.withUnsafeBufferPointer { Data(buffer: $0) }
        case .bf16:
            let halves = values.map { v -> UInt16 in
                let bits = v.bitPattern
                if v.isNaN { return UInt16(bits >> 16) | 0x40 }
                // Round to nearest, ties to even, on the dropped 16 bits.
                return UInt16((bits &+ 0x7FFF &+ ((bits >> 16) & 1)) >> 16).littleEndian
            }
            return halves.withUnsafeBufferPointer { Data(buffer: $0) }
        }
    }
}
