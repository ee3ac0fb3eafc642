import Foundation

/// A `.safetensors` file: `u64 LE header length N`, N bytes of JSON, then the raw little-endian data.
/// The header is validated completely before any tensor is touched: size bounds, a JSON object of
/// entries whose dtype, shape and byte range agree, ranges inside the data section and not
/// overlapping. A malformed file is a typed error, never an out-of-bounds read.
public struct SafetensorsFile: WeightSource {
    /// Headers beyond this are refused before parsing (real ones are a few hundred KB).
    public static let maximumHeaderBytes = 100 << 20

    public let path: String
    public let format = "safetensors"
    public let tensors: [String: TensorInfo]
    public let metadata: [String: String]
    public let file: MappedFile

    public init(path: String) throws(CheckpointError) {
        try self.init(file: MappedFile(path: path))
    }

    public init(file: MappedFile) throws(CheckpointError) {
        let path = file.path
        func fail(_ reason: String) -> CheckpointError { .malformedSafetensors(path: path, reason: reason) }
        guard let headerLength = file.le(UInt64.self, at: 0) else { throw fail("file is \(file.count) bytes, shorter than its 8-byte header length") }
        guard headerLength <= UInt64(Self.maximumHeaderBytes), Int(headerLength) <= file.count - 8 else {
            throw fail("header length \(headerLength) exceeds the file (\(file.count) bytes) or the \(Self.maximumHeaderBytes)-byte limit")
        }
        let dataStart = 8 + Int(headerLength)
        let dataSize = file.count - dataStart
        let header = Data(UnsafeRawBufferPointer(rebasing: file.bytes[8..<dataStart]))
        let parsed: Header
        do {
            parsed = try JSONDecoder().decode(Header.self, from: header)
        } catch {
            throw fail("header is not a valid safetensors JSON object (\(Self.reason(error)))")
        }
        var tensors: [String: TensorInfo] = [:]
        var ranges: [(Int, Int, String)] = []
        for (name, entry) in parsed.entries {
            guard let dtype = DType(rawValue: entry.dtype) else { throw fail("entry \(name) has unknown dtype \(entry.dtype)") }
            guard entry.shape.allSatisfy({ $0 >= 0 }) else { throw fail("entry \(name) has a negative dimension in \(entry.shape)") }
            guard entry.data_offsets.count == 2, 0 <= entry.data_offsets[0], entry.data_offsets[0] <= entry.data_offsets[1],
                  entry.data_offsets[1] <= dataSize else {
                throw fail("entry \(name) has data_offsets \(entry.data_offsets) outside the \(dataSize)-byte data section")
            }
            let (begin, end) = (entry.data_offsets[0], entry.data_offsets[1])
            var bytes = dtype.byteSize
            for d in entry.shape {
                let (product, overflow) = bytes.multipliedReportingOverflow(by: d)
                guard !overflow else { throw fail("entry \(name): shape \(entry.shape) overflows") }
                bytes = product
            }
            guard Self.shapeFits(entry.shape, elementSize: dtype.byteSize) else {
                throw fail("entry \(name): shape \(entry.shape) overflows")
            }
            guard bytes == end - begin else {
                throw fail("entry \(name): \(entry.dtype) \(entry.shape) needs \(bytes) bytes, data_offsets give \(end - begin)")
            }
            tensors[name] = TensorInfo(name: name, dtype: dtype, shape: entry.shape, byteOffset: dataStart + begin,
                                       strides: Self.contiguousStrides(entry.shape), storage: nil)
            ranges.append((begin, end, name))
        }
        let metadata = parsed.metadata
        ranges.sort { $0.0 < $1.0 }
        for (a, b) in zip(ranges, ranges.dropFirst()) where b.0 < a.1 {
            throw fail("entries \(a.2) and \(b.2) overlap")
        }
        self.tensors = tensors
        self.metadata = metadata
        self.file = file
        self.path = path
    }

    /// The JSON header: tensor entries plus an optional string-to-string `__metadata__`.
    struct Header: Decodable {
        struct Entry: Decodable {
            let dtype: String
            let shape: [Int]
            let data_offsets: [Int]
        }

        struct Key: CodingKey {
            let stringValue: String
            init(stringValue: String) { self.stringValue = stringValue }
            var intValue: Int? { nil }
            init?(intValue: Int) { nil }
        }

        var entries: [String: Entry] = [:]
        var metadata: [String: String] = [:]

        init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: Key.self)
            for key in container.allKeys {
                if key.stringValue == "__metadata__" {
                    metadata = try container.decode([String: String].self, forKey: key)
                } else {
                    entries[key.stringValue] = try container.decode(Entry.self, forKey: key)
                }
            }
        }
    }

    static func reason(_ error: any Error) -> String {
        switch error {
        case DecodingError.typeMismatch(_, let c), DecodingError.valueNotFound(_, let c),
             DecodingError.dataCorrupted(let c):
            let at = c.codingPath.map(\.stringValue).joined(separator: ".")
            return at.isEmpty ? c.debugDescription : "\(at): \(c.debugDescription)"
        case DecodingError.keyNotFound(let key, let c):
            return "\((c.codingPath + [key]).map(\.stringValue).joined(separator: ".")) is missing"
        default:
            return "\(error)"
        }
    }
}
