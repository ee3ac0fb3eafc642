import Foundation
import LDMModels

/// The settings that made an output, embedded in it (PNG iTXt "ldm-edit", TIFF ImageDescription,
/// JPEG comment) as one JSON object, and printed by `ldm-edit info`.
///
/// `key` is the resume key: a SHA-256 over everything that decides the output's pixels — the input
/// and mask bytes, the model's bytes, sampler, steps, eta, seed (only when given: a random seed is
/// "any"), tiling and the output options — and nothing that does not (file names, paths, tool
/// version, date). A rerun skips an output whose key matches.
struct Provenance: Codable, Equatable {
    var tool = "ldm-edit"
    var version: String
    /// "upscale" or "inpaint".
    var task: String
    /// Classical resampler (upscale without a model).
    var method: String?
    /// Model file or folder name, and the SHA-256 of its bytes (`sha256sum` of a single file).
    var model: String?
    var modelSHA256: String?
    var sampler: String?
    var steps: Int?
    var eta: Float?
    var seed: UInt64?
    /// Whether the seed was given (--seed); random seeds do not enter the key.
    var seedGiven: Bool?
    /// The requested tile plan (part of the key).
    var tiling: String?
    /// What actually ran for this image: the tile plan after the memory ceiling, the inpainting
    /// strategy and windows (recorded, not part of the key: it follows from the image and the request).
    var plan: String?
    /// Other options that change the pixels (mask handling, bit depth, JPEG quality).
    var options: [String: String] = [:]
    var input: String = ""
    var inputSHA256: String = ""
    var mask: String?
    var maskSHA256: String?
    var key: String = ""
    var created: String = ""

    enum CodingKeys: String, CodingKey {
        case tool, version, task, method, model, sampler, steps, eta, seed, tiling, plan, options, input, mask, key, created
        case modelSHA256 = "model_sha256", seedGiven = "seed_given", inputSHA256 = "input_sha256",
             maskSHA256 = "mask_sha256"
    }

    /// The resume key for the fields as set (see the type's comment for what enters it).
    func computedKey() -> String {
        var lines = ["ldm-edit-resume-v1", "task=\(task)"]
        if let method { lines.append("method=\(method)") }
        if let modelSHA256 { lines.append("model_sha256=\(modelSHA256)") }
        if let sampler { lines.append("sampler=\(sampler)") }
        if let steps { lines.append("steps=\(steps)") }
        if let eta { lines.append("eta=\(eta)") }
        if sampler != nil { lines.append("seed=\(seedGiven == true ? seed.map(String.init) ?? "any" : "any")") }
        lines.append("tiling=\(tiling ?? "none")")
        for (name, value) in options.sorted(by: { $0.key < $1.key }) { lines.append("\(name)=\(value)") }
        lines.append("input_sha256=\(inputSHA256)")
        if let maskSHA256 { lines.append("mask_sha256=\(maskSHA256)") }
        var hash = SHA256()
        hash.update(Array(lines.joined(separator: "\n").utf8))
        return hash.finish()
    }

    /// The embedded form: compact JSON with sorted keys.
    func json() -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        guard let data = try? encoder.encode(self) else { return "{}" }
        return String(decoding: data, as: UTF8.self)
    }

    /// Parses embedded text; nil when it is not ldm-edit's (another program's description or comment).
    static func parse(_ text: String?) -> Provenance? {
        guard let text, text.hasPrefix("{"), let data = text.data(using: .utf8),
              let value = try? JSONDecoder().decode(Provenance.self, from: data), value.tool == "ldm-edit" else { return nil }
        return value
    }

    /// SHA-256 of a file's bytes, streamed.
    static func sha256(ofFile path: String) throws -> String {
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw BatchError.cannotHash(path: path, reason: String(cString: strerror(errno)))
        }
        defer { try? handle.close() }
        var hash = SHA256()
        while true {
            let chunk: Data
            do { chunk = try handle.read(upToCount: 8 << 20) ?? Data() } catch {
                throw BatchError.cannotHash(path: path, reason: error.localizedDescription)
            }
            if chunk.isEmpty { break }
            chunk.withUnsafeBytes { hash.update($0) }
        }
        return hash.finish()
    }

    /// SHA-256 of a model file, remembered across runs for large files (`HashCache`).
    static func sha256(ofModelFile path: String) throws -> String {
        try HashCache.sha256(of: path) { try sha256(ofFile: path) }
    }

    /// SHA-256 identifying a model: of the file itself, or for a folder (diffusers) of the sorted
    /// list "<relative path> <sha256>" of its JSON and weight files.
    static func sha256(ofModel path: String) throws -> String {
        guard BatchPlan.isDirectory(path) else { return try sha256(ofModelFile: path) }
        let weightExtensions: Set<String> = ["json", "safetensors", "bin", "ckpt", "pt", "pth"]
        guard let walker = FileManager.default.enumerator(atPath: path) else { return try sha256(ofModelFile: path) }
        var lines: [String] = []
        for case let relative as String in walker where weightExtensions.contains((relative as NSString).pathExtension) {
            let full = (path as NSString).appendingPathComponent(relative)
            if !BatchPlan.isDirectory(full) { lines.append("\(relative) \(try sha256(ofModelFile: full))") }
        }
        var hash = SHA256()
        hash.update(Array(lines.sorted().joined(separator: "\n").utf8))
        return hash.finish()
    }

    static func timestamp(_ date: Date = Date()) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        return formatter.string(from: date)
    }
}
