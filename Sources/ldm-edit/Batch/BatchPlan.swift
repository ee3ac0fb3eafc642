import ArgumentParser
import Foundation
import LDMImageIO

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

    init(inputs: [String], output: String?, defaultSuffix: String) {
        var files: [String] = []
        for input in inputs {
            if Self.isDirectory(input) {
                do {
                    let found = try Self.imageFiles(in: input)
                    if found.isEmpty { problems.append(Problem(input: input, message: "\(input): folder has no PNG, JPEG or TIFF files")) }
                    files += found
                } catch {
                    problems.append(Problem(input: input, message: "\(input): cannot list folder: \(error.localizedDescription)"))
                }
            } else if FileManager.default.fileExists(atPath: input) {
                files.append(input)
            } else {
                problems.append(Problem(input: input, message: "\(input): no such file or folder"))
            }
        }
        let folder = output.flatMap { Self.outputIsFolder($0, inputs: inputs) ? $0 : nil }
        outputFolder = folder
        var claimed: [String: String] = [:]  // canonical output path → input that claimed it
        let inputPaths = Set(files.map(Self.canonical))
        for file in files {
            let target: String
            if let folder {
                target = (folder as NSString).appendingPathComponent(Self.outputName(for: file, suffix: ""))
            } else if let output {
                target = output
            } else {
                let dir = (file as NSString).deletingLastPathComponent
                let name = Self.outputName(for: file, suffix: defaultSuffix)
                target = dir.isEmpty ? name : (dir as NSString).appendingPathComponent(name)
            }
            let key = Self.canonical(target)
            if inputPaths.contains(key) {
                problems.append(Problem(input: file, message: "\(file): output \(target) is an input; choose another -o"))
            } else if let other = claimed[key] {
                problems.append(Problem(input: file, message: "\(file): output \(target) would also be written for \(other); rename one of them"))
            } else {
                claimed[key] = file
                jobs.append(Job(input: file, output: target))
            }
        }
    }

    /// `<stem><suffix>.<ext>`, keeping the input's format (PNG for unknown extensions).
    static func outputName(for input: String, suffix: String) -> String {
        let name = (input as NSString).lastPathComponent
        let ext = (name as NSString).pathExtension
        let stem = (name as NSString).deletingPathExtension
        let format = ImageFormat(pathExtension: ext)
        let outExt = format == nil ? "png" : (format == .jpeg || format == .tiff ? ext.lowercased() : "png")
        return "\(stem)\(suffix).\(outExt)"
    }

    static func imageFiles(in folder: String) throws -> [String] {
        let names = try FileManager.default.contentsOfDirectory(atPath: folder)
        return names.filter { name in
            !name.hasPrefix(".") && imageExtensions.contains((name as NSString).pathExtension.lowercased())
                && !isDirectory((folder as NSString).appendingPathComponent(name))
        }.sorted().map { (folder as NSString).appendingPathComponent($0) }
    }

    static func isDirectory(_ path: String) -> Bool {
        var isDir: ObjCBool = false
        return FileManager.default.fileExists(atPath: path, isDirectory: &isDir) && isDir.boolValue
    }

    static func canonical(_ path: String) -> String {
        URL(fileURLWithPath: path).standardizedFileURL.resolvingSymlinksInPath().path
    }
}
