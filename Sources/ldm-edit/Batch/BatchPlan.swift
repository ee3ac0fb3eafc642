import ArgumentParser
import Foundation
import LDMImageIO
#if canImport(Glibc)
import Glibc
#endif

/// Which files to process and where each result goes, decided before any work starts.
struct BatchPlan {
    struct Job: Equatable {
        let input: String
        let output: String
    }

    /// Inputs that cannot be processed, with the reason (missing file, output collision, ...).
    struct Problem: Equatable {
        let input: String
        let message: String
    }

    private(set) var jobs: [Job] = []
    private(set) var problems: [Problem] = []
    /// Folder that must exist before writing (nil when outputs go beside inputs or to a named file).
    private(set) var outputFolder: String?

    /// Moves a planned job to the problems (e.g. an image without a mask), so it is reported
    /// before any work starts and counted as failed.
    mutating func reject(_ input: String, message: String) {
        jobs.removeAll { $0.input == input }
        problems.append(Problem(input: input, message: message))
    }

    /// Drops inputs matching `predicate` from the plan silently (e.g. the masks of X_mask.png pairs).
    mutating func exclude(where predicate: (String) -> Bool) {
        jobs.removeAll { predicate($0.input) }
    }

    /// Keeps only the inputs of `shard` (problems too, so each is reported by one shard only).
    mutating func keep(_ shard: Shard) {
        jobs.removeAll { !shard.contains($0.input) }
        problems.removeAll { !shard.contains($0.input) }
    }

    /// How outputs are named.
    struct Naming: Equatable {
        var template: String?
        /// nil: keep each input's format.
        var format: ImageFormat?
        var recursive: Bool

        static let standard = Naming(template: nil, format: nil, recursive: false)
    }

    /// Extensions picked up when a folder is given as input.
    static let imageExtensions: Set<String> = ["png", "jpg", "jpeg", "jpe", "jfif", "tif", "tiff"]

    /// Cheap checks of the command line, before anything is read.
    static func validate(inputs: [String], output: String?) throws {
        guard !inputs.isEmpty else { throw ValidationError("Give at least one image file or folder.") }
        let folders = inputs.filter { isDirectory($0) }
        guard let output else {
            if let folder = folders.first {
                throw ValidationError("\(folder) is a folder; give an output folder with -o.")
            }
            return
        }
        if !outputIsFolder(output, inputs: inputs) {
            if ImageFormat(pathExtension: (output as NSString).pathExtension) == nil {
                throw ValidationError("-o \(output): unknown output format; use .png, .tif/.tiff or .jpg/.jpeg, or end it with / for a folder.")
            }
        } else if FileManager.default.fileExists(atPath: output), !isDirectory(output) {
            throw ValidationError("-o \(output) is an existing file, but several outputs need a folder.")
        }
    }

    /// -o is a folder when it exists as one, ends with "/", has no extension, or there is more than
    /// one input (or a folder input).
    static func outputIsFolder(_ output: String, inputs: [String]) -> Bool {
        if output.hasSuffix("/") || isDirectory(output) { return true }
        if inputs.count > 1 || inputs.contains(where: isDirectory) { return true }
        return (output as NSString).pathExtension.isEmpty
    }

    init(inputs: [String], output: String?, defaultSuffix: String, naming: Naming = .standard) {
        // (file, path relative to its folder input — for mirroring with --recursive)
        var files: [(String, String)] = []
        for input in inputs {
            if Self.isDirectory(input) {
                do {
                    let found = try Self.imageFiles(in: input, recursive: naming.recursive)
                    if found.isEmpty { problems.append(Problem(input: input, message: "\(input): folder has no PNG, JPEG or TIFF files")) }
                    files += found.map { ((input as NSString).appendingPathComponent($0), $0) }
                } catch {
                    problems.append(Problem(input: input, message: "\(input): cannot list folder: \(error.localizedDescription)"))
                }
            } else if FileManager.default.fileExists(atPath: input) {
                files.append((input, (input as NSString).lastPathComponent))
            } else if input.contains(where: { "*?[".contains($0) }) {
                let matches = Self.expandGlob(input).filter { !Self.isDirectory($0) }
                if matches.isEmpty { problems.append(Problem(input: input, message: "\(input): the pattern matches no file")) }
                files += matches.map { ($0, ($0 as NSString).lastPathComponent) }
            } else {
                problems.append(Problem(input: input, message: "\(input): no such file or folder"))
            }
        }
        let folder = output.flatMap { Self.outputIsFolder($0, inputs: inputs) ? $0 : nil }
        outputFolder = folder
        var claimed: [String: String] = [:]  // canonical output path → input that claimed it
        let inputPaths = Set(files.map { Self.canonical($0.0) })
        for (file, relative) in files {
            let target: String
            if let folder {
                let name = Self.outputName(for: file, suffix: defaultSuffix, template: naming.template ?? "{stem}.{ext}", format: naming.format)
                let subfolder = (relative as NSString).deletingLastPathComponent
                target = ((folder as NSString).appendingPathComponent(subfolder) as NSString).appendingPathComponent(name)
            } else if let output {
                target = output
            } else {
                let dir = (file as NSString).deletingLastPathComponent
                let name = Self.outputName(for: file, suffix: defaultSuffix, template: naming.template ?? "{stem}{suffix}.{ext}",
                                           format: naming.format)
                target = dir.isEmpty ? name : (dir as NSString).appendingPathComponent(name)
            }
            let key = Self.canonical(target)
            if inputPaths.contains(key) {
                problems.append(Problem(input: file, message: "\(file): output \(target) is an input; choose another -o or --name"))
            } else if let other = claimed[key] {
                problems.append(Problem(input: file, message: "\(file): output \(target) would also be written for \(other); rename one of them"))
            } else {
                claimed[key] = file
                jobs.append(Job(input: file, output: target))
            }
        }
    }

    /// The template with {stem}, {suffix} and {ext} filled in; {ext} keeps the input's format
    /// (PNG for unknown extensions) unless a format is forced.
    static func outputName(for input: String, suffix: String, template: String, format: ImageFormat?) -> String {
        let name = (input as NSString).lastPathComponent
        let ext = (name as NSString).pathExtension
        let stem = (name as NSString).deletingPathExtension
        let kept = ImageFormat(pathExtension: ext)
        let outExt = format?.preferredExtension ?? (kept == nil ? "png" : (kept == .jpeg || kept == .tiff ? ext.lowercased() : "png"))
        return template.replacingOccurrences(of: "{stem}", with: stem).replacingOccurrences(of: "{suffix}", with: suffix)
            .replacingOccurrences(of: "{ext}", with: outExt)
    }

    /// Shell-style pattern expansion (for patterns quoted so the shell left them alone), sorted.
    static func expandGlob(_ pattern: String) -> [String] {
        var result = glob_t()
        defer { globfree(&result) }
        guard glob(pattern, 0, nil, &result) == 0 else { return [] }
        return (0..<Int(result.gl_pathc)).compactMap { result.gl_pathv[$0].map { String(cString: $0) } }.sorted()
    }

    /// Image files of a folder as paths relative to it, sorted; hidden files and folders skipped.
    static func imageFiles(in folder: String, recursive: Bool = false) throws -> [String] {
        var found: [String] = []
        for name in try FileManager.default.contentsOfDirectory(atPath: folder).sorted() where !name.hasPrefix(".") {
            let path = (folder as NSString).appendingPathComponent(name)
            if isDirectory(path) {
                if recursive { found += try imageFiles(in: path, recursive: true).map { (name as NSString).appendingPathComponent($0) } }
            } else if imageExtensions.contains((name as NSString).pathExtension.lowercased()) {
                found.append(name)
            }
        }
        return found
    }

    static func isDirectory(_ path: String) -> Bool {
        var isDir: ObjCBool = false
        return FileManager.default.fileExists(atPath: path, isDirectory: &isDir) && isDir.boolValue
    }

    static func canonical(_ path: String) -> String {
        URL(fileURLWithPath: path).standardizedFileURL.resolvingSymlinksInPath().path
    }
}
