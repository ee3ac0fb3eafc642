import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Resume without embedded metadata (--no-metadata): each output folder holds
/// `.ldm-edit-journal.jsonl`, one JSON line per finished output — its name, resume key, size and
/// modification time. An output counts as finished when its entry's key matches and the file still
/// has the recorded size and time (so an output replaced by hand is redone). Lines are appended with
/// O_APPEND in one write and fsync'ed, so shards sharing a local folder can append concurrently.
final class ResumeJournal {
    static let fileName = ".ldm-edit-journal.jsonl"

    struct Entry: Codable, Equatable {
        var output: String
        var key: String
        var size: Int64
        var mtimeNanoseconds: Int64

        enum CodingKeys: String, CodingKey {
            case output, key, size
            case mtimeNanoseconds = "mtime_ns"
        }
    }

    /// Entries per folder, read once (the last line for a name wins).
    private var folders: [String: [String: Entry]] = [:]

    /// Whether `path` is recorded as made with `key` and is unchanged since.
    func isComplete(_ path: String, key: String) -> Bool {
        let (folder, name) = Self.split(path)
        guard let entry = entries(in: folder)[name], entry.key == key, let (size, mtime) = Self.fileStat(path) else { return false }
        return entry.size == size && entry.mtimeNanoseconds == mtime
    }

    /// Records a just-written output.
    func record(_ path: String, key: String) throws {
        let (folder, name) = Self.split(path)
        guard let (size, mtime) = Self.fileStat(path) else { return }
        let entry = Entry(output: name, key: key, size: size, mtimeNanoseconds: mtime)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let line = Array((String(decoding: try encoder.encode(entry), as: UTF8.self) + "\n").utf8)
        let journal = (folder as NSString).appendingPathComponent(Self.fileName)
        let fd = open(journal, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o666)
        guard fd >= 0 else { throw BatchError.journal(path: journal, reason: String(cString: strerror(errno))) }
        defer { close(fd) }
        let written = line.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        guard written == line.count, fsync(fd) == 0 else {
            throw BatchError.journal(path: journal, reason: written < 0 ? String(cString: strerror(errno)) : "short write")
        }
        folders[folder, default: [:]][name] = entry
    }

    private func entries(in folder: String) -> [String: Entry] {
        if let cached = folders[folder] { return cached }
        var found: [String: Entry] = [:]
        let journal = (folder as NSString).appendingPathComponent(Self.fileName)
        if let data = FileManager.default.contents(atPath: journal) {
            // A line cut by a kill, or damaged, is ignored: at worst that output is redone.
            for line in data.split(separator: UInt8(ascii: "\n")) {
                if let entry = try? JSONDecoder().decode(Entry.self, from: Data(line)) { found[entry.output] = entry }
            }
        }
        folders[folder] = found
        return found
    }

    private static func split(_ path: String) -> (String, String) {
        let folder = (path as NSString).deletingLastPathComponent
        return (folder.isEmpty ? "." : folder, (path as NSString).lastPathComponent)
    }

    private static func fileStat(_ path: String) -> (Int64, Int64)? {
        var info = Glibc.stat()
        guard lstat(path, &info) == 0 else { return nil }
        return (Int64(info.st_size), Int64(info.st_mtim.tv_sec) * 1_000_000_000 + Int64(info.st_mtim.tv_nsec))
    }
}
