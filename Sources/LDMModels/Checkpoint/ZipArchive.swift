/// The central directory of a ZIP file, enough to find stored (uncompressed) entries in place:
/// PyTorch's `torch.save` writes every entry stored, so tensors are read straight from the map.
/// ZIP64 (files and offsets beyond 4 GB) is supported.
package struct ZipArchive {
    package struct Entry {
        package let name: String
        /// Byte range of the entry's data in the file.
        package let dataOffset: Int
        package let size: Int
        package let method: UInt16
    }

    package let entries: [String: Entry]

    package init(_ file: MappedFile) throws(CheckpointError) {
        let path = file.path
        func fail(_ reason: String) -> CheckpointError { .malformedZip(path: path, reason: reason) }
        // End of central directory: 22 bytes + a comment of up to 65535 bytes, at the end.
        var eocd = -1
        var at = file.count - 22
        while at >= max(0, file.count - 22 - 65535) {
            if file.le(UInt32.self, at: at) == 0x0605_4B50 { eocd = at; break }
            at -= 1
        }
        guard eocd >= 0, let count16 = file.le(UInt16.self, at: eocd + 10),
              let size32 = file.le(UInt32.self, at: eocd + 12), let offset32 = file.le(UInt32.self, at: eocd + 16) else {
            throw fail("no end-of-central-directory record (truncated or not a zip file)")
        }
        var entryCount = Int(count16), directoryOffset = Int(offset32), directorySize = Int(size32)
        if count16 == 0xFFFF || size32 == 0xFFFF_FFFF || offset32 == 0xFFFF_FFFF {
            // ZIP64: a locator just before the EOCD points at the ZIP64 end record.
            guard file.le(UInt32.self, at: eocd - 20) == 0x0706_4B50, let record = file.le(UInt64.self, at: eocd - 12),
                  record < UInt64(file.count), file.le(UInt32.self, at: Int(record)) == 0x0606_4B50,
                  let n = file.le(UInt64.self, at: Int(record) + 32), let s = file.le(UInt64.self, at: Int(record) + 40),
                  let o = file.le(UInt64.self, at: Int(record) + 48), n < 1 << 32, s < 1 << 48, o < 1 << 48 else {
                throw fail("damaged ZIP64 end-of-central-directory record")
            }
            (entryCount, directorySize, directoryOffset) = (Int(n), Int(s), Int(o))
        }
        guard directoryOffset >= 0, directorySize >= 0, directoryOffset + directorySize <= eocd else {
            throw fail("central directory (\(directorySize) bytes at \(directoryOffset)) lies outside the file")
        }
        var entries: [String: Entry] = [:]
        var cursor = directoryOffset
        for _ in 0..<entryCount {
            guard file.le(UInt32.self, at: cursor) == 0x0201_4B50, let method = file.le(UInt16.self, at: cursor + 10),
                  let compressed32 = file.le(UInt32.self, at: cursor + 20), let size32 = file.le(UInt32.self, at: cursor + 24),
                  let nameLength = file.le(UInt16.self, at: cursor + 28), let extraLength = file.le(UInt16.self, at: cursor + 30),
                  let commentLength = file.le(UInt16.self, at: cursor + 32), let local32 = file.le(UInt32.self, at: cursor + 42),
                  cursor + 46 + Int(nameLength) + Int(extraLength) <= file.count else {
                throw fail("damaged central directory entry at byte \(cursor)")
            }
            let nameBytes = file.bytes[(cursor + 46)..<(cursor + 46 + Int(nameLength))]
            let name = String(decoding: nameBytes, as: UTF8.self)
            var size = Int(size32), compressed = Int(compressed32), local = Int(local32)
            // ZIP64 extended information: the 64-bit values for the fields that hold 0xFFFFFFFF, in order.
            var extra = cursor + 46 + Int(nameLength)
            let extraEnd = extra + Int(extraLength)
            while extra + 4 <= extraEnd {
                guard let id = file.le(UInt16.self, at: extra), let length = file.le(UInt16.self, at: extra + 2) else { break }
                if id == 0x0001 {
                    var field = extra + 4
                    func next() throws(CheckpointError) -> Int {
                        guard let v = file.le(UInt64.self, at: field), field + 8 <= extra + 4 + Int(length), v < 1 << 48 else {
                            throw fail("damaged ZIP64 field of entry \(name)")
                        }
                        field += 8
                        return Int(v)
                    }
                    if size32 == 0xFFFF_FFFF { size = try next() }
                    if compressed32 == 0xFFFF_FFFF { compressed = try next() }
                    if local32 == 0xFFFF_FFFF { local = try next() }
                }
                extra += 4 + Int(length)
            }
            // The data follows the local header, whose own name/extra lengths may differ.
            guard file.le(UInt32.self, at: local) == 0x0403_4B50, let localName = file.le(UInt16.self, at: local + 26),
                  let localExtra = file.le(UInt16.self, at: local + 28) else {
                throw fail("entry \(name): no local header at byte \(local)")
            }
            let dataOffset = local + 30 + Int(localName) + Int(localExtra)
            guard dataOffset + compressed <= file.count else {
                throw fail("entry \(name) (\(compressed) bytes at \(dataOffset)) runs past the end of the file (truncated?)")
            }
            if method == 0, compressed != size { throw fail("stored entry \(name) has differing sizes") }
            entries[name] = Entry(name: name, dataOffset: dataOffset, size: method == 0 ? size : compressed, method: method)
            cursor += 46 + Int(nameLength) + Int(extraLength) + Int(commentLength)
        }
        self.entries = entries
    }
}
