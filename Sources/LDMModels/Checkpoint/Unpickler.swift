/// A restricted unpickler for PyTorch checkpoints (pickle protocols 2–5).
///
/// It implements the opcodes state dicts and Lightning checkpoints use (docs/ldm-spec.md §6.4) and treats
/// every GLOBAL as a name. REDUCE/NEWOBJ on a name builds a value only for the few callables a state
/// dict needs (`torch._utils._rebuild_tensor_v2`, `_rebuild_parameter`, `collections.OrderedDict`);
/// every other call — `os.system`, `builtins.eval`, `subprocess.Popen`, optimizer classes — yields an
/// inert `.opaque` value. Nothing is imported, looked up or executed. Opcodes outside the set (the
/// text-mode INST/OBJ among them) are refused with an error naming them.
package struct Unpickler {
    let path: String
    let data: UnsafeRawBufferPointer
    private var position = 0
    private var stack: [Item] = []
    private var marks: [Int] = []
    private var memo: [Int: Item] = [:]

    /// Most values on the stack (a hostile pickle cannot exhaust memory through the stack).
    static let maximumStack = 1 << 20
    /// Deepest nesting of containers accepted. Values are freed recursively, about 200 bytes of
    /// machine stack per level, so a pickle of nested tuples 50 000 deep crashed the process when it
    /// was released (found by fuzzing, Tests/Fuzz/regressions/unpickler). Python's own pickler stops
    /// at its recursion limit of 1000, so no real checkpoint comes near.
    static let maximumDepth = 1000

    /// A stack or memo entry: the value and how deeply containers nest inside it (0 for scalars).
    /// Lists and dicts keep their depth in the object, which APPEND/SETITEMS may raise later.
    private struct Item {
        var value: PickleValue
        var depth: Int

        var currentDepth: Int {
            switch value {
            case .list(let l): l.depth
            case .dict(let d): d.depth
            default: depth
            }
        }
    }

    package init(path: String, data: UnsafeRawBufferPointer) {
        self.path = path
        self.data = data
    }

    private func fail(_ reason: String) -> CheckpointError { .malformedPickle(path: path, reason: reason) }

    private mutating func byte() throws(CheckpointError) -> UInt8 {
        guard position < data.count else { throw fail("ends without STOP") }
        defer { position += 1 }
        return data[position]
    }

    private mutating func bytes(_ n: Int) throws(CheckpointError) -> UnsafeRawBufferPointer {
        guard n >= 0, n <= data.count - position else { throw fail("a \(n)-byte field runs past the end") }
        defer { position += n }
        return UnsafeRawBufferPointer(rebasing: data[position..<(position + n)])
    }

    private mutating func uint(_ n: Int) throws(CheckpointError) -> Int {
        let b = try bytes(n)
        var v = 0
        for i in stride(from: n - 1, through: 0, by: -1) { v = v << 8 | Int(b[i]) }
        return v
    }

    private mutating func line() throws(CheckpointError) -> String {
        guard let end = data[position...].firstIndex(of: 10) else { throw fail("unterminated text field") }
        defer { position = end + 1 }
        return String(decoding: data[position..<end], as: UTF8.self)
    }

    private mutating func pop() throws(CheckpointError) -> PickleValue { try popItem().value }

    private mutating func popItem() throws(CheckpointError) -> Item {
        guard let v = stack.popLast(), stack.count >= (marks.last ?? 0) else { throw fail("stack underflow") }
        return v
    }

    private mutating func popMark() throws(CheckpointError) -> [Item] {
        guard let mark = marks.popLast(), mark <= stack.count else { throw fail("MARK missing") }
        defer { stack.removeSubrange(mark...) }
        return Array(stack[mark...])
    }

    /// Pushes a value that holds no containers.
    private mutating func push(_ v: PickleValue) throws(CheckpointError) {
        try push(Item(value: v, depth: 0))
    }

    private mutating func push(_ item: Item) throws(CheckpointError) {
        guard stack.count < Self.maximumStack else { throw fail("stack deeper than \(Self.maximumStack)") }
        stack.append(item)
    }

    /// Pushes a tuple of `items`, one level deeper than the deepest of them.
    private mutating func pushTuple(_ items: [Item]) throws(CheckpointError) {
        try push(Item(value: .tuple(items.map(\.value)), depth: try nest(items)))
    }

    /// The depth of a new container holding `items`, which from now on are inside it: a list or dict
    /// among them may no longer grow deeper, or the depths recorded above it would be wrong.
    private func nest(_ items: [Item]) throws(CheckpointError) -> Int {
        var deepest = 0
        for item in items {
            switch item.value {
            case .list(let l): l.isNested = true
            case .dict(let d): d.isNested = true
            default: break
            }
            deepest = max(deepest, item.currentDepth)
        }
        guard deepest < Self.maximumDepth else { throw fail("containers nested deeper than \(Self.maximumDepth)") }
        return deepest + 1
    }

    /// Records that `items` were added to the list or dict `target`. Refused when that makes a
    /// container already inside another one deeper, which is also how every reference cycle (a list
    /// appended to itself, two dicts holding each other) is refused: cycles cannot be freed by
    /// reference counting, so a pickle full of them would leak (found by fuzzing).
    private func deepen(_ target: PickleValue, by items: [Item]) throws(CheckpointError) {
        let depth = try nest(items)
        let (current, isNested) = switch target {
        case .list(let l): (l.depth, l.isNested)
        case .dict(let d): (d.depth, d.isNested)
        default: (0, false)
        }
        guard depth > current else { return }
        guard !isNested else { throw fail("a container is modified after being placed in another (recursive structure)") }
        switch target {
        case .list(let l): l.depth = depth
        case .dict(let d): d.depth = depth
        default: break
        }
    }

    private func signedLittleEndian(_ b: UnsafeRawBufferPointer) throws(CheckpointError) -> PickleValue {
        guard b.count <= 8 else { return .opaque("int of \(b.count) bytes") }
        var v: UInt64 = 0
        for (i, x) in b.enumerated() { v |= UInt64(x) << (8 * UInt64(i)) }
        if b.count > 0, b.count < 8, b[b.count - 1] & 0x80 != 0 { v |= ~0 << (8 * UInt64(b.count)) }
        return .int(Int(Int64(bitPattern: v)))
    }

    package mutating func run() throws(CheckpointError) -> PickleValue {
        while true {
            let op = try byte()
            switch op {
            case 0x80: _ = try byte()                                   // PROTO
            case 0x95: _ = try bytes(8)                                 // FRAME
            case 0x2E: return try pop()                                 // STOP
            case 0x28: marks.append(stack.count)                        // MARK
            case 0x29: try pushTuple([])                                 // EMPTY_TUPLE
            case 0x5D, 0x8F: try pushList([])                            // EMPTY_LIST, EMPTY_SET (as a list)
            case 0x7D: try pushDict([])                                  // EMPTY_DICT
            case 0x74, 0x91: try pushTuple(try popMark())                // TUPLE, FROZENSET
            case 0x85: try pushTuple([try popItem()])                    // TUPLE1
            case 0x86: let b = try popItem(); let a = try popItem(); try pushTuple([a, b])         // TUPLE2
            case 0x87: let c = try popItem(); let b = try popItem(); let a = try popItem(); try pushTuple([a, b, c])  // TUPLE3
            case 0x6C: try pushList(try popMark())                       // LIST
            case 0x64: try pushDict(try popMark())                       // DICT
            case 0x61: let v = try popItem(); try append(to: try top(), [v])                      // APPEND
            case 0x65, 0x90: let items = try popMark(); try append(to: try top(), items)          // APPENDS, ADDITEMS
            case 0x73: let v = try popItem(); let k = try popItem(); try setItems(try top(), [k, v])  // SETITEM
            case 0x75: let items = try popMark(); try setItems(try top(), items)                  // SETITEMS
            case 0x4E: try push(.none)                                   // NONE
            case 0x88: try push(.bool(true))                             // NEWTRUE
            case 0x89: try push(.bool(false))                            // NEWFALSE
            case 0x4B: try push(.int(try uint(1)))                       // BININT1
            case 0x4D: try push(.int(try uint(2)))                       // BININT2
            case 0x4A: try push(.int(Int(Int32(truncatingIfNeeded: try uint(4)))))  // BININT
            case 0x8A: try push(try signedLittleEndian(try bytes(try uint(1))))    // LONG1
            case 0x8B: try push(try signedLittleEndian(try bytes(try uint(4))))    // LONG4
            case 0x49:                                                   // INT (text)
                let text = try line()
                try push(text == "01" ? .bool(true) : text == "00" ? .bool(false) : .int(Int(text) ?? 0))
            case 0x4C: try push(.int(Int(try line().dropLast()) ?? 0))   // LONG (text, trailing L)
            case 0x47:                                                   // BINFLOAT (big-endian double)
                let b = try bytes(8)
                var bits: UInt64 = 0
                for x in b { bits = bits << 8 | UInt64(x) }
                try push(.float(Double(bitPattern: bits)))
            case 0x58: try push(.string(String(decoding: try bytes(try uint(4)), as: UTF8.self)))   // BINUNICODE
            case 0x8C: try push(.string(String(decoding: try bytes(try uint(1)), as: UTF8.self)))   // SHORT_BINUNICODE
            case 0x8D: try push(.string(String(decoding: try bytes(try uint(8)), as: UTF8.self)))   // BINUNICODE8
            case 0x42: try push(.bytes(Array(try bytes(try uint(4)))))   // BINBYTES
            case 0x43: try push(.bytes(Array(try bytes(try uint(1)))))   // SHORT_BINBYTES
            case 0x8E, 0x96: try push(.bytes(Array(try bytes(try uint(8)))))  // BINBYTES8, BYTEARRAY8
            case 0x63:                                                   // GLOBAL "module\nname\n"
                let module = try line()
                try push(.global(module: module, name: try line()))
            case 0x93:                                                   // STACK_GLOBAL
                guard case .string(let name) = try pop(), case .string(let module) = try pop() else {
                    throw fail("STACK_GLOBAL needs two strings")
                }
                try push(.global(module: module, name: name))
            case 0x52, 0x81:                                             // REDUCE, NEWOBJ
                let args = try popItem()
                try push(try call(try pop(), args))
            case 0x92:                                                   // NEWOBJ_EX
                _ = try pop()
                let args = try popItem()
                try push(try call(try pop(), args))
            case 0x62: _ = try pop()                                     // BUILD: object state is not applied
            case 0x51:                                                   // BINPERSID
                try push(try persistent(try pop()))
            case 0x71: memo[try uint(1)] = try topItem()                 // BINPUT
            case 0x72: memo[try uint(4)] = try topItem()                 // LONG_BINPUT
            case 0x94: memo[memo.count] = try topItem()                  // MEMOIZE
            case 0x70: memo[Int(try line()) ?? -1] = try topItem()       // PUT
            case 0x68: try push(try memoValue(try uint(1)))              // BINGET
            case 0x6A: try push(try memoValue(try uint(4)))              // LONG_BINGET
            case 0x67: try push(try memoValue(Int(try line()) ?? -1))    // GET
            case 0x30: _ = try pop()                                     // POP
            case 0x31: _ = try popMark()                                 // POP_MARK
            case 0x32: try push(try topItem())                           // DUP
            default:
                throw fail(String(format: "opcode 0x%02x at byte %d is not supported in a checkpoint", op, position - 1))
            }
        }
    }

    private func top() throws(CheckpointError) -> PickleValue { try topItem().value }

    private func topItem() throws(CheckpointError) -> Item {
        guard let v = stack.last, stack.count > (marks.last ?? 0) else { throw fail("stack underflow") }
        return v
    }

    private mutating func pushList(_ items: [Item]) throws(CheckpointError) {
        let l = PickleList()
        try deepen(.list(l), by: items)
        l.items = items.map(\.value)
        try push(Item(value: .list(l), depth: 0))
    }

    private mutating func pushDict(_ items: [Item]) throws(CheckpointError) {
        let d = PickleDict()
        try setItems(.dict(d), items)
        try push(Item(value: .dict(d), depth: 0))
    }

    private func memoValue(_ key: Int) throws(CheckpointError) -> Item {
        guard let v = memo[key] else { throw fail("memo key \(key) was never stored") }
        return v
    }

    private func append(to target: PickleValue, _ items: [Item]) throws(CheckpointError) {
        guard case .list(let l) = target else { throw fail("APPEND to a \(target.typeName)") }
        try deepen(target, by: items)
        l.items.append(contentsOf: items.map(\.value))
    }

    private func setItems(_ target: PickleValue, _ items: [Item]) throws(CheckpointError) {
        guard items.count % 2 == 0 else { throw fail("SETITEMS with an odd number of values") }
        switch target {
        case .dict(let d):
            try deepen(target, by: items)
            for i in stride(from: 0, to: items.count, by: 2) { d.set(items[i].value, items[i + 1].value) }
        case .opaque:
            break  // items set on an unknown object are dropped
        default:
            throw fail("SETITEM on a \(target.typeName)")
        }
    }

    /// ('storage', torch.<Type>Storage, key, location, numel) → a storage reference.
    private func persistent(_ pid: PickleValue) throws(CheckpointError) -> PickleValue {
        guard case .tuple(let t) = pid, t.count >= 5, case .string("storage") = t[0],
              case .global(_, let typeName) = t[1], case .string(let key) = t[2], case .int(let numel) = t[4] else {
            throw fail("unsupported persistent id \(pid.typeName)")
        }
        guard let dtype = DType(torchStorage: typeName) else { throw fail("unknown storage type \(typeName)") }
        guard numel >= 0 else { throw fail("storage \(key) has negative size") }
        return .storage(StorageReference(key: key, dtype: dtype, elementCount: numel))
    }

    /// The only callables given meaning; everything else becomes an inert placeholder.
    private func call(_ callable: PickleValue, _ args: Item) throws(CheckpointError) -> Item {
        let value = try call(callable, args.value)
        guard case .dict(let d) = value else { return Item(value: value, depth: 0) }
        // The dict holds values from the (args, [pairs], (key, value)) it was built from: at most as deep.
        d.depth = max(1, args.currentDepth - 1)
        return Item(value: value, depth: 0)
    }

    private func call(_ callable: PickleValue, _ args: PickleValue) throws(CheckpointError) -> PickleValue {
        guard case .global(let module, let name) = callable else { return .opaque("call of \(callable.typeName)") }
        let arguments: [PickleValue]
        if case .tuple(let a) = args { arguments = a } else { arguments = [] }
        switch (module, name) {
        case ("torch._utils", "_rebuild_tensor_v2"), ("torch._utils", "_rebuild_tensor"):
            guard arguments.count >= 4, case .storage(let storage) = arguments[0], case .int(let offset) = arguments[1],
                  let shape = ints(arguments[2]), let strides = ints(arguments[3]), shape.count == strides.count else {
                throw fail("_rebuild_tensor_v2 with unexpected arguments")
            }
            return .tensor(TensorReference(storage: storage, offset: offset, shape: shape, strides: strides))
        case ("torch._utils", "_rebuild_parameter"), ("torch._utils", "_rebuild_parameter_with_state"):
            guard let first = arguments.first, case .tensor = first else { throw fail("_rebuild_parameter without a tensor") }
            return first
        case ("collections", "OrderedDict"), ("builtins", "dict"):
            let d = PickleDict()
            if let first = arguments.first, case .list(let pairs) = first {
                for case .tuple(let kv) in pairs.items where kv.count == 2 { d.set(kv[0], kv[1]) }
            }
            return .dict(d)
        default:
            return .opaque("\(module).\(name)")
        }
    }

    private func ints(_ v: PickleValue) -> [Int]? {
        guard case .tuple(let items) = v else { return nil }
        var out: [Int] = []
        for item in items {
            guard case .int(let i) = item else { return nil }
            out.append(i)
        }
        return out
    }
}

import Foundation
