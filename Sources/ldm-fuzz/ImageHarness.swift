#if canImport(Glibc)
import Glibc
#endif
import LDMImageIO

/// Harness for the image readers. The C wrappers take a path, so each input is written to one
/// scratch file (in /dev/shm when present) that is overwritten per input and removed at exit.
enum ImageHarness {
    /// A small pixel ceiling: a header claiming a huge image is refused before any pixel memory is
    /// allocated, which is the behaviour under test, and the fuzzer does not stall on big buffers.
    static let options = ImageReadOptions(maxPixels: 1 << 20)

    nonisolated(unsafe) private static var scratch: [String: String] = [:]

    static func decode(_ data: UnsafeRawBufferPointer, extension ext: String) -> Bool {
        let path = scratchPath(ext)
        guard write(data, to: path) else { fatalError("ldm-fuzz: cannot write the scratch file \(path)") }
        let header = try? ImageFile.readHeader(path, options: options)
        let image = try? ImageFile.read(path, options: options)
        if let image, let header {
            // Both paths read the same header fields; disagreeing sizes would be a bug in a wrapper.
            precondition(header.width == image.width && header.height == image.height,
                         "readHeader says \(header.width)x\(header.height), read gives \(image.width)x\(image.height)")
        }
        return image != nil
    }

    private static func scratchPath(_ ext: String) -> String {
        if let path = scratch[ext] { return path }
        var isDir = stat()
        let dir = stat("/dev/shm", &isDir) == 0 && (isDir.st_mode & S_IFMT) == S_IFDIR ? "/dev/shm" : "/tmp"
        let path = "\(dir)/ldm-fuzz-\(getpid())-\(ext)"
        scratch[ext] = path
        if scratch.count == 1 { atexit { ImageHarness.removeScratch() } }
        return path
    }

    private static func removeScratch() {
        for path in scratch.values { unlink(path) }
    }

    private static func write(_ data: UnsafeRawBufferPointer, to path: String) -> Bool {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var done = 0
        while done < data.count {
            let n = Glibc.write(fd, data.baseAddress! + done, data.count - done)
            guard n > 0 else { return false }
            done += n
        }
        return true
    }
}
