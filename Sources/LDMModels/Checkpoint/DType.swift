/// Element types found in weight files (safetensors names; PyTorch storages map onto them).
public enum DType: String, Sendable, CaseIterable, Equatable {
    case f64 = "F64", f32 = "F32", f16 = "F16", bf16 = "BF16"
    case i64 = "I64", i32 = "I32", i16 = "I16", i8 = "I8", u8 = "U8", bool = "BOOL"

    public var byteSize: Int {
        switch self {
        case .f64, .i64: 8
        case .f32, .i32: 4
        case .f16, .bf16, .i16: 2
        case .i8, .u8, .bool: 1
        }
    }

    public var isFloatingPoint: Bool { self == .f64 || self == .f32 || self == .f16 || self == .bf16 }

    /// The dtype of a `torch.<Name>Storage` class (the pickle's storage type).
    public init?(torchStorage name: String) {
        switch name {
        case "DoubleStorage": self = .f64
        case "FloatStorage": self = .f32
        case "HalfStorage": self = .f16
        case "BFloat16Storage": self = .bf16
        case "LongStorage": self = .i64
        case "IntStorage": self = .i32
        case "ShortStorage": self = .i16
        case "CharStorage": self = .i8
        case "ByteStorage": self = .u8
        case "BoolStorage": self = .bool
        default: return nil
        }
    }

    /// Reads element `index` of little-endian data at `base` as Float (floating dtypes only).
    @inline(__always)
    func float(_ base: UnsafeRawPointer, _ index: Int) -> Float {
        switch self {
        case .f32: return Float(bitPattern: UInt32(littleEndian: base.loadUnaligned(fromByteOffset: 4 * index, as: UInt32.self)))
        case .f16:
            return Float(Float16(bitPattern: UInt16(littleEndian: base.loadUnaligned(fromByteOffset: 2 * index, as: UInt16.self))))
        case .bf16:
            let bits = UInt32(UInt16(littleEndian: base.loadUnaligned(fromByteOffset: 2 * index, as: UInt16.self))) << 16
            return Float(bitPattern: bits)
        case .f64:
            return Float(Double(bitPattern: UInt64(littleEndian: base.loadUnaligned(fromByteOffset: 8 * index, as: UInt64.self))))
        default: return .nan
        }
    }
}
