/// A PyTorch zip checkpoint (`torch.save` since 1.6: `.ckpt`, `.bin`, `.pt`, `.pth`).
///
/// Layout (docs/ldm-spec.md §6.4): one top folder whose name varies (`archive/`, `last/`, ...) holding
/// `data.pkl` (the pickled object), `data/<key>` (raw little-endian storage bytes, stored
/// uncompressed) and `byteorder`. The pickle is read by the restricted `Unpickler`; tensors become
/// `TensorInfo`s pointing into the mapped file, so nothing is copied until a tensor is loaded and
/// tensors sharing a storage (CompVis `first_stage_model`/`cond_stage_model`) share bytes.
/// A Lightning checkpoint's tensors are those of its `state_dict` entry.
public struct TorchCheckpoint: WeightSource {
    public let path: String
    public let format = "pytorch-zip"
    public let tensors: [String: TensorInfo]
    public let metadata: [String: String]
    public let file: MappedFile
    /// Top-level keys of the pickled object besides the state dict (Lightning: epoch, global_step...).
    public let otherTopLevelKeys: [String]

    public init(path: String) throws(CheckpointError) {
        try self.init(file: MappedFile(path: path))
    }

    public init(file: MappedFile) throws(CheckpointError) {
        let path = file.path
        let archive = try ZipArchive(file)
        let pickles = archive.entries.keys.filter { $0.hasSuffix("/data.pkl") && $0.split(separator: "/").count == 2 }
        guard pickles.count == 1, let pickleName = pickles.first, let pickle = archive.entries[pickleName] else {
            throw .malformedZip(path: path, reason: "expected one <folder>/data.pkl, found \(pickles.count)")
        }
        let top = String(pickleName.dropLast("data.pkl".count))
        if let order = archive.entries[top + "byteorder"], order.method == 0 {
            let text = String(decoding: file.bytes[order.dataOffset..<(order.dataOffset + order.size)], as: UTF8.self)
            guard text == "little" else {
                throw .malformedZip(path: path, reason: "byte order \(text) is not supported (little-endian only)")
            }
        }
        guard pickle.method == 0 else {
            throw .malformedZip(path: path, reason: "data.pkl is compressed (method \(pickle.method)); torch.save stores it")
        }
        var unpickler = Unpickler(path: path, data: UnsafeRawBufferPointer(rebasing: file.bytes[pickle.dataOffset..<(pickle.dataOffset + pickle.size)]))
        let root = try unpickler.run()
        guard case .dict(let rootDict) = root else { throw .notAStateDict(path: path, found: root.typeName) }
        var stateDict = rootDict
        var others: [String] = []
        if case .dict(let inner)? = rootDict[string: "state_dict"] {
            stateDict = inner
            others = rootDict.keys.compactMap { if case .string(let s) = $0, s != "state_dict" { return s } else { return nil } }
        }
        var tensors: [String: TensorInfo] = [:]
        for (key, value) in zip(stateDict.keys, stateDict.values) {
            guard case .string(let name) = key, case .tensor(let t) = value else { continue }
            tensors[name] = try Self.locate(t, name: name, top: top, archive: archive, path: path)
        }
        self.path = path
        self.file = file
        self.tensors = tensors
        self.metadata = [:]
        self.otherTopLevelKeys = others.sorted()
    }

    /// Checks a tensor's view against its storage entry and turns it into a file location.
    static func locate(_ t: TensorReference, name: String, top: String, archive: ZipArchive,
                       path: String) throws(CheckpointError) -> TensorInfo {
        let storageName = top + "data/" + t.storage.key
        guard let entry = archive.entries[storageName] else {
            throw .tensorOutOfBounds(path: path, key: name, reason: "storage \(storageName) is missing from the archive")
        }
        guard entry.method == 0 else {
            throw .malformedZip(path: path, reason: "storage \(storageName) is compressed (method \(entry.method))")
        }
        let size = t.storage.dtype.byteSize
        // Overflow-checked: a hostile element count or offset trapped here (found by fuzzing).
        let (needed, overflow) = t.storage.elementCount.multipliedReportingOverflow(by: size)
        guard !overflow, entry.size >= needed else {
            throw .tensorOutOfBounds(path: path, key: name,
                                     reason: "storage holds \(entry.size) bytes, needs \(t.storage.elementCount) \(size)-byte elements")
        }
        guard t.offset >= 0, t.shape.allSatisfy({ $0 >= 0 }), t.strides.allSatisfy({ $0 >= 0 }) else {
            throw .tensorOutOfBounds(path: path, key: name, reason: "negative offset, size or stride")
        }
        // Checked for empty tensors too (an empty slice may start at the very end, never beyond).
        guard t.offset <= t.storage.elementCount else {
            throw .tensorOutOfBounds(path: path, key: name, reason: "offset \(t.offset) beyond a \(t.storage.elementCount)-element storage")
        }
        guard Self.shapeFits(t.shape, elementSize: size) else {
            throw .tensorOutOfBounds(path: path, key: name, reason: "shape \(t.shape) overflows")
        }
        if !t.shape.contains(0) {
            var last = t.offset
            for (d, s) in zip(t.shape, t.strides) {
                let (step, o1) = (d - 1).multipliedReportingOverflow(by: s)
                let (sum, o2) = last.addingReportingOverflow(step)
                guard !o1, !o2 else { throw .tensorOutOfBounds(path: path, key: name, reason: "strides overflow") }
                last = sum
            }
            guard last < t.storage.elementCount else {
                throw .tensorOutOfBounds(path: path, key: name,
                                         reason: "element \(last) of a \(t.storage.elementCount)-element storage")
            }
        }
        return TensorInfo(name: name, dtype: t.storage.dtype, shape: t.shape, byteOffset: entry.dataOffset + t.offset * size,
                          strides: t.strides, storage: t.storage.key)
    }
}
