import Foundation

/// Where a Stable Diffusion model's tokenizer comes from, when it brings one (else the CLIP vocabulary compiled
/// into the binary is used).
public enum TokenizerSource: Sendable, Equatable {
    /// A diffusers `tokenizer/` folder.
    case folder(String)
    /// A `tokenizer/` folder's files (name → contents) kept in a converted model's metadata; `origin` is the model file.
    case files([String: Data], origin: String)

    /// The files of a tokenizer folder that `convert` keeps (the ones the tokenizer reads).
    public static let fileNames = ["vocab.json", "merges.txt", "tokenizer_config.json", "special_tokens_map.json"]
}

extension ModelWeights {
    /// Metadata key of the tokenizer files in a converted file: a JSON object {file name: text}.
    public static let tokenizerKey = "ldm_edit_tokenizer"

    /// The model's own tokenizer: its folder's `tokenizer/`, or the files a converted file keeps; nil: none.
    public var tokenizer: TokenizerSource? {
        tokenizerFolder.map { .folder($0) } ?? tokenizerFiles.map { .files($0, origin: path) }
    }

    /// The tokenizer folder's files as the metadata text `tokenizerKey` holds (nil without a folder).
    func tokenizerMetadata() throws(CheckpointError) -> String? {
        guard let folder = tokenizerFolder else { return nil }
        var files: [String: String] = [:]
        for name in TokenizerSource.fileNames {
            let path = folder + "/" + name
            guard FileManager.default.fileExists(atPath: path) else { continue }
            guard let data = FileManager.default.contents(atPath: path), let text = String(data: data, encoding: .utf8) else {
                throw .unreadable(path: path, reason: "not readable as UTF-8 text")
            }
            files[name] = text
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        guard let data = try? encoder.encode(files) else { throw .unreadable(path: folder, reason: "cannot encode the tokenizer files") }
        return String(decoding: data, as: UTF8.self)
    }

    /// The files of `tokenizerKey`'s metadata text.
    static func tokenizerFiles(metadata text: String, path: String) throws(CheckpointError) -> [String: Data] {
        guard let files = try? JSONDecoder().decode([String: String].self, from: Data(text.utf8)) else {
            throw .unsupportedModel(path: path, reason: "the \(tokenizerKey) metadata is not a JSON object of file texts")
        }
        return files.mapValues { Data($0.utf8) }
    }
}
