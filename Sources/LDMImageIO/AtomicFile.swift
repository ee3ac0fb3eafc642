import CImageCodecs
#if canImport(Glibc)
import Glibc
#endif

/// Writes a file so that its final name only ever holds complete data.
///
/// The content goes to a uniquely named temporary file in the destination folder (same file system,
/// so the final `rename` is atomic), is fsync'ed, then renamed over the destination. If the producer
/// throws, or the process is killed, the destination is untouched; a kill can leave only a
/// `.<name>.ldm-edit-<host>-<pid>-*.tmp` file behind, never a half-written `<name>`, and the next
/// write of `<name>` removes such leftovers of dead processes (`removeStaleTemporaries`).
/// While the temporary file exists it is registered with the interrupt handler, so a second Ctrl-C
/// removes it before exiting.
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
        removeStaleTemporaries(for: path)
        var template = Array("\(folder)/\(temporaryPrefix(for: name))\(ownerTag)-XXXXXX.tmp".utf8CString)
        let fd = template.withUnsafeMutableBufferPointer { mkstemps($0.baseAddress!, 4) }
        guard fd >= 0 else { throw .writeFailed(path: path, reason: String(cString: strerror(errno))) }
        close(fd)
        let temporary = String(nulTerminated: template)
        ldm_interrupt_set_temporary(temporary)
        defer { ldm_interrupt_set_temporary(nil) }
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

    /// `.<name>.ldm-edit-`: how every temporary file for `name` starts.
    static func temporaryPrefix(for name: String) -> String { ".\(name)\(temporaryMarker)" }

    /// `<host>-<pid>` of this process, so leftovers can be traced to a process that is gone.
    static let ownerTag: String = {
        var buffer = [CChar](repeating: 0, count: 256)
        gethostname(&buffer, buffer.count - 1)
        let host = String(nulTerminated: buffer).unicodeScalars.filter {
            ("a"..."z").contains($0) || ("A"..."Z").contains($0) || ("0"..."9").contains($0)
        }
        let name = String(String.UnicodeScalarView(host.prefix(32)))
        return "\(name.isEmpty ? "host" : name)-\(getpid())"
    }()

    /// Leftovers older than this are removed whatever process made them (a run on another host of a
    /// shared folder that died; nothing writes one image for a day).
    public static let staleAge: Double = 24 * 3600

    /// Removes temporary files for `path` left by killed runs: those of a process of this host
    /// that no longer exists, and any older than `staleAge`. Returns how many were removed.
    @discardableResult
    public static func removeStaleTemporaries(for path: String) -> Int {
        let (folder, name) = split(path)
        guard let dir = opendir(folder) else { return 0 }
        defer { closedir(dir) }
        let prefix = temporaryPrefix(for: name)
        let host = ownerTag.split(separator: "-").first.map(String.init) ?? ""
        var removed = 0
        while let entry = readdir(dir) {
            let entryName = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
            guard entryName.hasPrefix(prefix), entryName.hasSuffix(".tmp") else { continue }
            // <host>-<pid>-XXXXXX.tmp
            let parts = entryName.dropFirst(prefix.count).split(separator: "-")
            let full = "\(folder)/\(entryName)"
            var info = stat()
            guard stat(full, &info) == 0 else { continue }
            let age = Double(time(nil) - info.st_mtim.tv_sec)
            var dead = false
            if parts.count >= 3, String(parts[0]) == host, let pid = Int32(parts[1]), pid != getpid() {
                dead = kill(pid, 0) != 0 && errno == ESRCH
            }
            if dead || age > staleAge, unlink(full) == 0 { removed += 1 }
        }
        return removed
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
