import Foundation
import LDMEditing
import LDMModels
import LDMPipelines

/// The models the page may choose from, fixed at start: the default models (`ModelLocator`: the bundled
/// inpainting model first, once it exists), every model directly in `--models`, and classical Lanczos
/// upscaling. Clients name a model by its `id` only: a server path never crosses the wire in either
/// direction, so a request cannot point the server at a file of its choosing.
public struct ModelCatalog: Sendable {
    public struct Entry: Sendable {
        /// "m1", "m2", … in listing order; "lanczos" for classical upscaling.
        public let id: String
        public let name: String
        public let task: EditTask
        /// nil: classical upscaling.
        public let description: ModelDescription?
        /// A default model (found by `ModelLocator`), not one from the models folder.
        public let isDefault: Bool

        var path: String? { description?.path }
        public var takesPrompt: Bool { description?.takesPrompt ?? false }
        public var defaultSampler: SamplerKind? { description?.defaultSampler }
        /// The model's default step count with its default sampler (`SamplingDefault`); the common 50 for classical
        /// upscaling, which takes none.
        public var defaultSteps: Int { defaultSteps(for: nil) }
        /// The steps of a job that names `sampler` (nil: the default one) but no step count.
        func defaultSteps(for sampler: SamplerKind?) -> Int {
            guard let defaults = description?.defaultSampling else { return SamplingRequest.defaultSteps }
            return defaults.steps(for: sampler ?? defaults.sampler)
        }
    }

    public let entries: [Entry]
    /// Files and folders in the models folder that are not usable models, with the reason (logged at start).
    public let skipped: [(name: String, reason: String)]

    public static let classicalID = "lanczos"

    /// Reads every candidate's header (`ModelDescription`); unusable ones are skipped, not fatal.
    public init(modelsFolder: String?, defaults: [(task: ModelTask, path: String)] = ModelLocator.defaultModels()) {
        var entries: [Entry] = []
        var skipped: [(String, String)] = []
        var seen = Set<String>()
        let candidates = defaults.map { ($0.path, true) } + (modelsFolder.map(ModelLocator.models(in:)) ?? []).map { ($0, false) }
        for (path, isDefault) in candidates {
            let resolved = URL(fileURLWithPath: path).resolvingSymlinksInPath().path
            guard seen.insert(resolved).inserted else { continue }
            do {
                let description = try ModelDescription(path: path)
                entries.append(Entry(id: "m\(entries.count + 1)", name: description.name, task: description.task,
                                     description: description, isDefault: isDefault))
            } catch {
                skipped.append(((path as NSString).lastPathComponent, "\(error)"))
            }
        }
        entries.append(Entry(id: Self.classicalID, name: "Lanczos (classical, no model)", task: .upscale, description: nil, isDefault: false))
        self.entries = entries
        self.skipped = skipped
    }

    public func entry(_ id: String) -> Entry? { entries.first { $0.id == id } }
}
