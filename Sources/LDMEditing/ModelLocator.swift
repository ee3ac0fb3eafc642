import Foundation
import LDMModels

/// Where the default models are looked for when no model is named, in order:
/// 1. `$LDM_EDIT_MODELS` (a folder),
/// 2. `<folder of the binary>/../share/ldm-edit/models` (an installed binary: bin/ and share/ side by side),
/// 3. `Models/` of the source tree the binary was built in (`swift run`, `.build/<config>/ldm-edit`),
/// 4. `./Models` in the current folder.
/// Each folder may hold `ldm-edit-sr.safetensors` and `ldm-edit-inpaint.safetensors` (the files
/// `Scripts/train/train_diffusion.py --export` and `ldm-edit convert` produce). A folder's `training/`
/// holds a model still in training (`Scripts/train/keep_partial.sh`): never loaded by default, only named
/// when the default is missing, so that the user can try it with a model option.
public enum ModelLocator {
    public static func fileName(for task: ModelTask) -> String {
        task == .superResolution ? "ldm-edit-sr.safetensors" : "ldm-edit-inpaint.safetensors"
    }

    /// The folders searched, in order. `executable` is the running binary's path (argv[0]).
    public static func searchFolders(environment: [String: String] = ProcessInfo.processInfo.environment,
                                     executable: String = CommandLine.arguments.first ?? "") -> [String] {
        var folders: [String] = []
        if let custom = environment["LDM_EDIT_MODELS"], !custom.isEmpty { folders.append(custom) }
        let binary = URL(fileURLWithPath: executable).resolvingSymlinksInPath()
        let binDir = binary.deletingLastPathComponent()
        folders.append(binDir.deletingLastPathComponent().appendingPathComponent("share/ldm-edit/models").path)
        // .build/<triple>/<config>/ldm-edit or .build/<config>/ldm-edit → the package root's Models/.
        var dir = binDir
        for _ in 0..<4 {
            if dir.lastPathComponent == ".build" {
                folders.append(dir.deletingLastPathComponent().appendingPathComponent("Models").path)
                break
            }
            dir = dir.deletingLastPathComponent()
        }
        folders.append(FileManager.default.currentDirectoryPath + "/Models")
        // The source tree's Models/ and ./Models are one folder when run from the package root: list it once.
        var seen = Set<String>()
        return folders.filter { seen.insert(URL(fileURLWithPath: $0).standardizedFileURL.path).inserted }
    }

    /// The default model file for `task`, or nil with the list of places searched.
    public static func defaultModel(for task: ModelTask, environment: [String: String] = ProcessInfo.processInfo.environment)
        -> (path: String?, searched: [String]) {
        let folders = searchFolders(environment: environment)
        return (firstExisting(fileName(for: task), in: folders), folders)
    }

    /// `given`, else the default model for `task`; nil when there is none.
    public static func find(_ given: String?, for task: ModelTask,
                            environment: [String: String] = ProcessInfo.processInfo.environment) -> String? {
        given ?? defaultModel(for: task, environment: environment).path
    }

    /// `given`, else the default model for `task`; throws `EditError.noModel` (with the folders
    /// searched) when there is none.
    public static func require(_ given: String?, for task: ModelTask,
                               environment: [String: String] = ProcessInfo.processInfo.environment) throws(EditError) -> String {
        if let given { return given }
        let found = defaultModel(for: task, environment: environment)
        guard let path = found.path else {
            throw .noModel(task: task, fileName: fileName(for: task), searched: found.searched,
                           unfinished: unfinishedModel(for: task, in: found.searched))
        }
        return path
    }

    /// The first `training/<file name>` in `folders`: a model of `task` still in training, short of its targets.
    public static func unfinishedModel(for task: ModelTask, in folders: [String]) -> String? {
        firstExisting("training/" + fileName(for: task), in: folders)
    }

    /// `relativePath` inside the first of `folders` that holds it.
    static func firstExisting(_ relativePath: String, in folders: [String]) -> String? {
        folders.lazy.map { ($0 as NSString).appendingPathComponent(relativePath) }
            .first { FileManager.default.fileExists(atPath: $0) }
    }

    /// Weight-file extensions a model file may have (what `ModelWeights.open` reads).
    public static let modelExtensions: Set<String> = ["safetensors", "ckpt", "pt", "pth", "bin"]

    /// The models directly inside `folder`, sorted by name: weight files and diffusers folders (those with a
    /// `model_index.json`); hidden entries skipped. Whether each is a usable model is for `ModelDescription` to say.
    public static func models(in folder: String) -> [String] {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: folder) else { return [] }
        return names.sorted().filter { !$0.hasPrefix(".") }.map { (folder as NSString).appendingPathComponent($0) }.filter { path in
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else { return false }
            if isDirectory.boolValue { return FileManager.default.fileExists(atPath: (path as NSString).appendingPathComponent("model_index.json")) }
            return modelExtensions.contains((path as NSString).pathExtension.lowercased())
        }
    }

    /// The default models that exist, inpainting first (the page's first choice), then super-resolution.
    public static func defaultModels(environment: [String: String] = ProcessInfo.processInfo.environment) -> [(task: ModelTask, path: String)] {
        [ModelTask.inpainting, .superResolution].compactMap { task in defaultModel(for: task, environment: environment).path.map { (task, $0) } }
    }
}
