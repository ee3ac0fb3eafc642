#if canImport(Glibc)
import Glibc
#endif

/// Writes a file so that its final name only ever holds complete data.
///
/// The content goes to a uniquely named temporary file in the destination folder (same file system,
/// so the final `rename` is atomic), is fsync'ed, then renamed over the destination. If the producer
/// throws, or the process is killed, the destination is untouched; a kill can leave only a
/// `.<name>.ldm-edit-*.tmp` file behind, never a half-written `<name>`.
public enum AtomicFile {
    /// Marker in temporary file names, so leftovers of a killed run can be recognised.
    public static let temporaryMarker = ".ldm-edit-"

    /// Calls `produce` with a temporary path to fill, then moves it to `path`.
    public static func write(to path: String,
                             _ produce: (String) throws(ImageIOError) -> Void) throws(ImageIOError) {
        let (folder, name) = split(path)
        var info = stat()
        guard stat(folder, &info) == 0 else {
            throw .writeFailed(path: path, reason: "folder \(folder) does not exist")
        }
        guard (info.st_mode & S_IFMT) == S_IFDIR else {
            throw .writeFailed(path: path, reason: "\(folder) is not a folder")
        }
        if stat(path, &info) == 0, (info.st_mode & S_IFMT) == S_IFDIR {
            throw .writeFailed(path: path, reason: "a folder of that name exists")
        }
        var template = Array("\(folder)/.\(name)\(temporaryMarker)XXXXXX.tmp".utf8CString)
        let fd = template.withUnsafeMutableBufferPointer { mkstemps($0.baseAddress!, 4) }
        guard fd >= 0 else { throw .writeFailed(path: path, reason: String(cString: strerror(errno))) }
        close(fd)
        let temporary = String(nulTerminated: template)
        do throws(ImageIOError) {
            try produce(temporary)
            try flushToDisk(temporary, finalPath: path)
            // Keep the permissions an ordinary new file would get (mkstemp creates 0600).
            let mask = umask(0)
            umask(mask)
            chmod(temporary, 0o666 & ~mask)
            guard rename(temporary, path) == 0 else {
                throw .writeFailed(path: path, reason: String(cString: strerror(errno)))
            }
        } catch {
            unlink(temporary)
            throw error
        }
        // Make the rename itself durable; failure here loses nothing already visible.
        let dirfd = open(folder, O_RDONLY | O_DIRECTORY)
        if dirfd >= 0 {
            fsync(dirfd)
            close(dirfd)
        }
    }

    private static func flushToDisk(_ temporary: String, finalPath: String) throws(ImageIOError) {
        let fd = open(temporary, O_RDONLY)
        guard fd >= 0 else { throw .writeFailed(path: finalPath, reason: String(cString: strerror(errno))) }
        defer { close(fd) }
        guard fsync(fd) == 0 else { throw .writeFailed(path: finalPath, reason: String(cString: strerror(errno))) }
    }

    /// ("folder", "name") of a path; the folder is "." for a bare name.
    static func split(_ path: String) -> (String, String) {
        guard let slash = path.lastIndex(of: "/") else { return (".", path) }
        let folder = String(path[..<slash])
        return (folder.isEmpty ? "/" : folder, String(path[path.index(after: slash)...]))
    }
}
