#if canImport(Glibc)
import Glibc
#endif

/// A whole file mapped read-only into memory. Weights are read straight from the page cache, so
/// opening a 3.3 GB checkpoint costs no copy and pages are only touched when a tensor is loaded.
public final class MappedFile: @unchecked Sendable {
    public let path: String
    public let bytes: UnsafeRawBufferPointer
    /// True for a heap copy (`init(path:copying:)`): freed, not unmapped, and never madvise'd.
    private let isCopy: Bool

    public init(path: String) throws(CheckpointError) {
        self.path = path
        isCopy = false
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw .unreadable(path: path, reason: String(cString: strerror(errno))) }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw .unreadable(path: path, reason: String(cString: strerror(errno))) }
        guard (info.st_mode & S_IFMT) == S_IFREG else { throw .unreadable(path: path, reason: "not a regular file") }
        let size = Int(info.st_size)
        if size == 0 {
            bytes = UnsafeRawBufferPointer(start: nil, count: 0)
            return
        }
        guard let base = mmap(nil, size, PROT_READ, MAP_PRIVATE, fd, 0), base != MAP_FAILED else {
            throw .unreadable(path: path, reason: String(cString: strerror(errno)))
        }
        bytes = UnsafeRawBufferPointer(start: base, count: size)
    }

    /// An in-memory copy of `data` posing as the file at `path`, so the parsers can be fuzzed without
    /// a file per input. A heap block of exactly `data.count` bytes lets AddressSanitizer catch any
    /// read past the end, which a page-rounded mapping would hide.
    package init(path: String, copying data: UnsafeRawBufferPointer) {
        self.path = path
        isCopy = true
        guard !data.isEmpty else {
            bytes = UnsafeRawBufferPointer(start: nil, count: 0)
            return
        }
        let copy = UnsafeMutableRawBufferPointer.allocate(byteCount: data.count, alignment: 1)
        copy.copyMemory(from: data)
        bytes = UnsafeRawBufferPointer(copy)
    }

    public var count: Int { bytes.count }

    deinit {
        guard let base = bytes.baseAddress else { return }
        if isCopy { UnsafeMutableRawPointer(mutating: base).deallocate() } else { munmap(UnsafeMutableRawPointer(mutating: base), bytes.count) }
    }

    /// Tells the kernel the pages fully inside `range` are not needed any more (they are re-read
    /// from the file if touched again). Called after a tensor has been copied out, so a loaded
    /// model is held once in memory, not once as file pages and again as tensors.
    public func release(_ range: Range<Int>) {
        guard !isCopy, let base = bytes.baseAddress, !range.isEmpty else { return }
        let page = Int(sysconf(Int32(_SC_PAGESIZE)))
        let start = (range.lowerBound + page - 1) / page * page, end = range.upperBound / page * page
        guard end > start else { return }
        madvise(UnsafeMutableRawPointer(mutating: base + start), end - start, MADV_DONTNEED)
    }

    /// Little-endian integer at `offset`; nil when it does not fit in the file.
    func le<T: FixedWidthInteger>(_ type: T.Type, at offset: Int) -> T? {
        guard offset >= 0, offset <= count - MemoryLayout<T>.size else { return nil }
        return T(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: T.self))
    }
}
