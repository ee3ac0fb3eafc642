import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Remembers the SHA-256 of large model files, keyed by path, size, modification time and inode,
/// so a rerun (resume, or the next shard on the same machine) does not spend ~20 s re-reading a
/// 3 GB checkpoint. Stored in `$XDG_CACHE_HOME/ldm-edit/model-hashes.json` (default
/// `~/.cache/...`); `LDM_EDIT_NO_HASH_CACHE=1` disables it, `LDM_EDIT_HASH_CACHE_MIN_BYTES`
/// changes the size from which files are cached (tests use 0). A damaged or unwritable cache is
/// ignored: the hash is then simply computed.
public enum HashCache {
    /// Files smaller than this are hashed directly (faster than the bookkeeping).
    static var minimumSize: Int64 {
        ProcessInfo.processInfo.environment["LDM_EDIT_HASH_CACHE_MIN_BYTES"].flatMap { Int64($0) } ?? 64 << 20
    }

    struct Entry: Codable, Equatable {
        var size: Int64
        var mtimeNanoseconds: Int64
        var inode: UInt64
        var sha256: String
    }

    static func file(environment: [String: String] = ProcessInfo.processInfo.environment) -> String? {
        if environment["LDM_EDIT_NO_HASH_CACHE"] == "1" { return nil }
        let base = environment["XDG_CACHE_HOME"].flatMap { $0.isEmpty ? nil : $0 }
            ?? environment["HOME"].map { ($0 as NSString).appendingPathComponent(".cache") }
        return base.map { ($0 as NSString).appendingPathComponent("ldm-edit/model-hashes.json") }
    }

    /// The SHA-256 of `path`, from the cache when the file is unchanged, else from `compute`.
    public static func sha256(of path: String, compute: () throws(EditError) -> String) throws(EditError) -> String {
        var info = stat()
        guard stat(path, &info) == 0, Int64(info.st_size) >= minimumSize, let cacheFile = file() else { return try compute() }
        let key = URL(fileURLWithPath: path).standardizedFileURL.path
        let current = Entry(size: Int64(info.st_size), mtimeNanoseconds: Int64(info.st_mtim.tv_sec) * 1_000_000_000 + Int64(info.st_mtim.tv_nsec),
                            inode: UInt64(info.st_ino), sha256: "")
        var entries = load(cacheFile)
        if let hit = entries[key], hit.size == current.size, hit.mtimeNanoseconds == current.mtimeNanoseconds, hit.inode == current.inode,
           hit.sha256.count == 64 {
            return hit.sha256
        }
        let sha = try compute()
        var entry = current
        entry.sha256 = sha
        entries[key] = entry
        save(entries, to: cacheFile)
        return sha
    }

    private static func load(_ path: String) -> [String: Entry] {
        guard let data = FileManager.default.contents(atPath: path),
              let entries = try? JSONDecoder().decode([String: Entry].self, from: data) else { return [:] }
        return entries
    }

    private static func save(_ entries: [String: Entry], to path: String) {
        let folder = (path as NSString).deletingLastPathComponent
        guard (try? FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)) != nil else { return }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        guard let data = try? encoder.encode(entries) else { return }
        // Write-then-rename, so a concurrent reader sees the old or the new cache, never half of one.
        let temporary = path + ".\(getpid()).tmp"
        if FileManager.default.createFile(atPath: temporary, contents: data), rename(temporary, path) != 0 { unlink(temporary) }
    }
}
