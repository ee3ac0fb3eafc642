/// Values the restricted unpickler can produce. Nothing here can run code: classes and functions
/// named by the pickle are just names (`global`), and calling them only ever builds one of the few
/// known value kinds below or an inert `opaque` record.
public enum PickleValue: Sendable {
    case none
    case bool(Bool)
    case int(Int)
    case float(Double)
    case string(String)
    case bytes([UInt8])
    case tuple([PickleValue])
    case list(PickleList)
    case dict(PickleDict)
    /// A `module.name` reference from GLOBAL/STACK_GLOBAL, never imported.
    case global(module: String, name: String)
    /// A PyTorch storage from a persistent id: ('storage', <Type>Storage, key, location, numel).
    case storage(StorageReference)
    /// A tensor rebuilt by `torch._utils._rebuild_tensor_v2` / `_rebuild_parameter`.
    case tensor(TensorReference)
    /// Anything else a pickle constructs (optimizer states, callbacks, hyperparameter objects,
    /// and whatever an attacker names): kept as the callable's name, inert.
    case opaque(String)

    var typeName: String {
        switch self {
        case .none: "None"
        case .bool: "bool"
        case .int: "int"
        case .float: "float"
        case .string: "str"
        case .bytes: "bytes"
        case .tuple: "tuple"
        case .list: "list"
        case .dict: "dict"
        case .global(let m, let n): "global \(m).\(n)"
        case .storage: "storage"
        case .tensor: "tensor"
        case .opaque(let what): "object \(what)"
        }
    }
}

/// Mutable list (APPEND/APPENDS mutate after creation, and memo entries alias it).
public final class PickleList: @unchecked Sendable {
    public var items: [PickleValue] = []
    /// Nesting bookkeeping of the unpickler (`Unpickler.maximumDepth`): containers inside, plus one,
    /// and whether this list is itself inside another container.
    var depth = 1
    var isNested = false
}

/// Mutable, insertion-ordered dictionary (dict and OrderedDict alike).
public final class PickleDict: @unchecked Sendable {
    public private(set) var keys: [PickleValue] = []
    public private(set) var values: [PickleValue] = []
    private var stringIndex: [String: Int] = [:]
    /// Nesting bookkeeping of the unpickler, as in `PickleList`.
    var depth = 1
    var isNested = false

    func set(_ key: PickleValue, _ value: PickleValue) {
        if case .string(let s) = key, let i = stringIndex[s] {
            values[i] = value
            return
        }
        if case .string(let s) = key { stringIndex[s] = keys.count }
        keys.append(key)
        values.append(value)
    }

    public subscript(string key: String) -> PickleValue? {
        stringIndex[key].map { values[$0] }
    }
}

public struct StorageReference: Sendable, Equatable {
    public let key: String
    public let dtype: DType
    public let elementCount: Int
}

public struct TensorReference: Sendable, Equatable {
    public let storage: StorageReference
    public let offset: Int
    public let shape: [Int]
    public let strides: [Int]
}
