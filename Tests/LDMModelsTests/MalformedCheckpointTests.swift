import Foundation
import Testing
@testable import LDMModels

/// Damaged and hostile files, built here byte by byte: each must give its typed error, never a
/// crash or an out-of-bounds read.
@Suite struct MalformedCheckpointTests {
    let folder = TemporaryFolder("ldm-bad")
    var dir: String { folder.path }

    func write(_ bytes: [UInt8], _ name: String) -> String {
        let p = dir + "/" + name
        _ = FileManager.default.createFile(atPath: p, contents: Data(bytes))
        return p
    }

    /// A safetensors file from a header string and a data section.
    func safetensors(_ header: String, data: [UInt8]) -> [UInt8] {
        let h = Array(header.utf8)
        var out: [UInt8] = []
        withUnsafeBytes(of: UInt64(h.count).littleEndian) { out += $0 }
        return out + h + data
    }

    func failure(_ bytes: [UInt8]) -> CheckpointError? {
        do {
            _ = try WeightFile.open(write(bytes, "x.safetensors"))
            return nil
        } catch { return error }
    }

    @Test func wellFormedBaseline() throws {
        let ok = safetensors(#"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"__metadata__":{"k":"v"}}"#, data: [0, 0, 128, 63, 0, 0, 0, 64])
        let file = try WeightFile.open(write(ok, "ok.safetensors"))
        #expect(try file.load("a").values == [1, 2])
    }

    @Test(arguments: [
        (#"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,16]}}"#, "outside the 8-byte data section"),
        (#"{"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}"#, "needs 12 bytes"),
        (#"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"F32","shape":[1],"data_offsets":[2,6]}}"#, "overlap"),
        (#"{"a":{"dtype":"Q4","shape":[2],"data_offsets":[0,8]}}"#, "unknown dtype Q4"),
        (#"{"a":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}}"#, "negative dimension"),
        (#"{"a":{"dtype":"F32","shape":[2.5],"data_offsets":[0,8]}}"#, "not a valid safetensors JSON"),
        (#"{"a":{"dtype":"F32","shape":[2]}}"#, "data_offsets is missing"),
        (#"{"a":{"dtype":"F32","shape":[4611686018427387904,4],"data_offsets":[0,8]}}"#, "overflows"),
        (#"{"a":{"dtype":"F32","shape":[2],"data_offsets":[8,0]}}"#, "outside"),
        (#"{"a":{"dtype":"F32","shape":[0,1099511627776,1099511627776],"data_offsets":[0,0]}}"#, "overflows"),
        (#"[1,2,3]"#, "not a valid safetensors JSON"),
        (#"{"__metadata__":{"k":5}}"#, "not a valid safetensors JSON"),
    ])
    func malformedHeaders(_ c: (String, String)) {
        let error = failure(safetensors(c.0, data: [UInt8](repeating: 0, count: 8)))
        guard case .malformedSafetensors(_, let reason)? = error else { Issue.record("got \(String(describing: error))"); return }
        #expect(reason.contains(c.1), "\(reason)")
    }

    @Test func headerLengthPastTheEnd() {
        var bytes = safetensors(#"{}"#, data: [])
        bytes[0] = 0xFF; bytes[1] = 0xFF  // claims a 65535-byte header in a 10-byte file
        guard case .malformedSafetensors(_, let reason)? = failure(bytes) else { Issue.record(); return }
        #expect(reason.contains("exceeds the file"))
        #expect(failure([1, 2, 3]) == .unknownFormat(path: dir + "/x.safetensors", hint: "file is only 3 bytes"))
    }

    @Test func truncatedZipCheckpoints() throws {
        let full = try [UInt8](Data(contentsOf: URL(fileURLWithPath: Fixture.path("tiny_lightning.ckpt"))))
        for fraction in [0.1, 0.5, 0.95] {
            let cut = Array(full.prefix(Int(Double(full.count) * fraction)))
            do {
                _ = try WeightFile.open(write(cut, "cut.ckpt"))
                Issue.record("truncated file at \(fraction) accepted")
            } catch {
                guard case .malformedZip = error else { Issue.record("\(fraction): \(error)"); continue }
            }
        }
    }

    /// Random damage anywhere in real files: any outcome but a crash (or a hang) is acceptable; the
    /// loads that succeed must still produce tensors of the declared sizes.
    @Test(arguments: ["tiny_lightning.ckpt", "tiny_state_dict.bin", "tiny_f16.safetensors"])
    func randomCorruptionNeverCrashes(_ name: String) throws {
        let original = try [UInt8](Data(contentsOf: URL(fileURLWithPath: Fixture.path(name))))
        var state: UInt64 = 0x1234_5678
        func next() -> Int {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Int(state >> 33)
        }
        var loaded = 0
        for trial in 0..<300 {
            var bytes = original
            for _ in 0..<(1 + trial % 4) { bytes[next() % bytes.count] = UInt8(truncatingIfNeeded: next()) }
            guard let file = try? WeightFile.open(write(bytes, "fuzz-" + name)) else { continue }
            for (key, info) in file.tensors where info.dtype.isFloatingPoint {
                if let t = try? file.load(key) { #expect(t.count == info.elementCount) }
            }
            loaded += 1
        }
        #expect(loaded > 0, "some mutations (in padding or values) should still load")
    }

    /// Pickles the fuzzer broke the unpickler with: reference cycles (leaked, as reference counting
    /// cannot free them) and deep nesting (freed recursively, overflowing the stack) are refused.
    @Test(arguments: [
        ([0x80, 0x02, 0x5D, 0x71, 0x00, 0x68, 0x00, 0x61, 0x2E], "recursive"),               // l = []; l.append(l)
        ([0x7D, 0x71, 0x00, 0x4B, 0x01, 0x68, 0x00, 0x73, 0x2E], "recursive"),               // d = {}; d[1] = d
        ([0x5D, 0x71, 0x00, 0x5D, 0x71, 0x01, 0x68, 0x00, 0x61, 0x68, 0x00, 0x68, 0x01, 0x61, 0x2E], "recursive"),  // a in b, b in a
        ([0x80, 0x02, 0x29] + [UInt8](repeating: 0x85, count: 1000) + [0x2E], "nested deeper than 1000"),
        ([0x28] + [UInt8](repeating: 0x28, count: 1000) + [UInt8](repeating: 0x6C, count: 1001) + [0x2E], "nested deeper than 1000"),
    ] as [([UInt8], String)])
    func recursiveAndDeepPicklesAreRefused(_ c: ([UInt8], String)) {
        c.0.withUnsafeBytes { bytes in
            var unpickler = Unpickler(path: "p", data: bytes)
            #expect(throws: CheckpointError.self) { _ = try unpickler.run() }
            var again = Unpickler(path: "p", data: bytes)
            do { _ = try again.run() } catch let error as CheckpointError { #expect(error.description.contains(c.1), "\(error)") } catch {}
        }
    }

    @Test func nestingUpToTheLimitLoads() throws {
        let bytes: [UInt8] = [0x80, 0x02, 0x29] + [UInt8](repeating: 0x85, count: 999) + [0x2E]
        try bytes.withUnsafeBytes { raw in
            var unpickler = Unpickler(path: "p", data: raw)
            guard case .tuple = try unpickler.run() else { Issue.record("not a tuple"); return }
        }
    }

    /// The same archive rewritten in ZIP64 form (64-bit sizes and offsets in extra fields, a ZIP64
    /// end record and locator) loads to the same tensors.
    @Test func zip64ArchivesLoad() throws {
        let source = try MappedFile(path: Fixture.path("tiny_state_dict.bin"))
        let archive = try ZipArchive(source)
        var out: [UInt8] = []
        var central: [UInt8] = []
        func le<T: FixedWidthInteger>(_ v: T) -> [UInt8] { withUnsafeBytes(of: v.littleEndian) { Array($0) } }
        for entry in archive.entries.values.sorted(by: { $0.name < $1.name }) {
            let name = Array(entry.name.utf8)
            let data = Array(source.bytes[entry.dataOffset..<(entry.dataOffset + entry.size)])
            let offset = out.count
            let zip64Local = le(UInt16(1)) + le(UInt16(16)) + le(UInt64(data.count)) + le(UInt64(data.count))
            out += le(UInt32(0x0403_4B50)) + le(UInt16(45)) + le(UInt16(0)) + le(UInt16(0)) + le(UInt32(0)) + le(UInt32(0))
            out += le(UInt32(0xFFFF_FFFF)) + le(UInt32(0xFFFF_FFFF)) + le(UInt16(name.count)) + le(UInt16(zip64Local.count))
            out += name + zip64Local + data
            let zip64Central = le(UInt16(1)) + le(UInt16(24)) + le(UInt64(data.count)) + le(UInt64(data.count)) + le(UInt64(offset))
            central += le(UInt32(0x0201_4B50)) + le(UInt16(45)) + le(UInt16(45)) + le(UInt16(0)) + le(UInt16(0)) + le(UInt32(0))
            central += le(UInt32(0)) + le(UInt32(0xFFFF_FFFF)) + le(UInt32(0xFFFF_FFFF)) + le(UInt16(name.count))
            central += le(UInt16(zip64Central.count)) + le(UInt16(0)) + le(UInt16(0)) + le(UInt16(0)) + le(UInt32(0))
            central += le(UInt32(0xFFFF_FFFF)) + name + zip64Central
        }
        let directoryOffset = out.count
        out += central
        let record = out.count
        let n = UInt64(archive.entries.count)
        out += le(UInt32(0x0606_4B50)) + le(UInt64(44)) + le(UInt16(45)) + le(UInt16(45)) + le(UInt32(0)) + le(UInt32(0))
        out += le(n) + le(n) + le(UInt64(central.count)) + le(UInt64(directoryOffset))
        out += le(UInt32(0x0706_4B50)) + le(UInt32(0)) + le(UInt64(record)) + le(UInt32(1))
        out += le(UInt32(0x0605_4B50)) + le(UInt16(0)) + le(UInt16(0)) + le(UInt16(0xFFFF)) + le(UInt16(0xFFFF))
        out += le(UInt32(0xFFFF_FFFF)) + le(UInt32(0xFFFF_FFFF)) + le(UInt16(0))

        let rewritten = try WeightFile.open(write(out, "zip64.bin"))
        let original = try WeightFile.open(Fixture.path("tiny_state_dict.bin"))
        #expect(rewritten.names == original.names)
        for name in original.names where original.tensors[name]!.dtype.isFloatingPoint {
            #expect(try rewritten.load(name).values == (try original.load(name).values), "\(name)")
        }
    }
}
