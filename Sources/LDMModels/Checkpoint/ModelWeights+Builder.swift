extension ModelWeights {
    /// Collects recipes and the audit while parameters are matched to file tensors.
    struct Builder {
        let path: String
        let sources: [any WeightSource]
        /// How unexpected keys of each source are labelled in the audit ("unet/", "vqvae/"; none for one file).
        let labels: [String]
        var recipes: [String: Recipe] = [:]
        var audit = WeightAudit()
        var consumed: [Set<String>]

        init(path: String, sources: [any WeightSource], labels: [String]? = nil) {
            self.path = path
            self.sources = sources
            self.labels = labels ?? Array(repeating: "", count: sources.count)
            consumed = Array(repeating: [], count: sources.count)
        }

        /// Same elements, possibly with trailing size-1 axes added or removed (Linear ↔ 1x1 conv).
        static func compatible(_ a: [Int], _ b: [Int]) -> Bool {
            func trimmed(_ s: [Int]) -> [Int] {
                var s = s
                while s.count > 1, s.last == 1 { s.removeLast() }
                return s
            }
            return trimmed(a) == trimmed(b)
        }

        /// Matches one parameter: `candidates` are exact file keys (nil: use the spec's diffusers names).
        mutating func match(_ spec: ParameterSpec, source: Int, candidates: [String]?) {
            let tensors = sources[source].tensors
            if let candidates {
                guard let key = candidates.first(where: { tensors[$0] != nil }), let info = tensors[key] else {
                    audit.missing.append((candidates.first ?? spec.name, spec.shape))
                    return
                }
                consume(spec, source: source, key: key, info: info)
                return
            }
            switch spec.diffusers {
            case .tensor(let names):
                guard let key = names.first(where: { tensors[$0] != nil }), let info = tensors[key] else {
                    audit.missing.append((names[0], spec.shape))
                    return
                }
                consume(spec, source: source, key: key, info: info)
            case .fusedQKV(let q, let k, let v, let heads):
                let found = [q, k, v].map { names in names.first { tensors[$0] != nil } }
                guard let qk = found[0], let kk = found[1], let vk = found[2] else {
                    for (names, key) in zip([q, k, v], found) where key == nil { audit.missing.append((names[0], [])) }
                    return
                }
                let channels = spec.shape[1...].first ?? spec.shape[0] / 3
                let partShape = spec.shape.count == 1 ? [spec.shape[0] / 3] : [spec.shape[0] / 3, channels]
                var ok = true
                for key in [qk, kk, vk] {
                    consumed[source].insert(key)
                    if let info = tensors[key], !Self.compatible(info.shape, partShape) {
                        audit.mismatched.append(.init(name: key, expected: partShape, actual: info.shape))
                        ok = false
                    }
                }
                if ok, (spec.shape[0] / 3) % heads == 0 {
                    recipes[spec.name] = .fusedQKV(source: source, q: qk, k: kk, v: vk, heads: heads, shape: spec.shape)
                }
            }
        }

        private mutating func consume(_ spec: ParameterSpec, source: Int, key: String, info: TensorInfo) {
            consumed[source].insert(key)
            guard Self.compatible(info.shape, spec.shape) else {
                audit.mismatched.append(.init(name: key, expected: spec.shape, actual: info.shape))
                return
            }
            recipes[spec.name] = .tensor(source: source, name: key, shape: spec.shape)
        }

        mutating func finishUnexpected(source: Int, ignore: (String) -> Bool) {
            for key in sources[source].tensors.keys.sorted() where !consumed[source].contains(key) && !ignore(key) {
                audit.unexpected.append(labels[source] + key)
            }
        }

        func build(layout: Layout, unet: UNetConfig, firstStage: FirstStageConfig, schedule: NoiseScheduleConfig?,
                   emaPresent: Bool, emaUsed: Bool, provenance: String?) throws(CheckpointError) -> ModelWeights {
            let latent = firstStage.latentChannels
            let tasks = "\(latent + 3) = super-resolution, \(2 * latent + 1) = inpainting"
            guard let task = ModelTask(unetInputChannels: unet.inChannels, latentChannels: latent, textConditioned: unet.crossAttention != nil) else {
                throw .unsupportedModel(path: path, reason: "a U-Net with \(unet.inChannels) input channels over a \(latent)-channel latent (\(tasks))")
            }
            guard unet.outChannels == latent else {
                throw .unsupportedModel(path: path, reason: "the U-Net predicts \(unet.outChannels) channels, the first stage's latent has \(latent)")
            }
            if !audit.isClean {
                var report = audit
                // The U-Net's first convolution, by its CompVis or diffusers name (or any `conv_in`).
                let convIn = UNetLayout(unet).convIn.weight
                let names = [String(convIn.name.dropFirst(UNetLayout.prefix.count))] + convIn.diffusersNames
                if report.mismatched.contains(where: { m in names.contains { m.name.hasSuffix($0) } }) {
                    report.hints.append("the first convolution's input channels decide the task: with \(latent) latent channels, "
                                        + "\(latent + 3) = super-resolution (upscale), \(2 * latent + 1) = inpainting (inpaint)")
                }
                if !report.missing.isEmpty, report.unexpected.count >= report.missing.count {
                    report.hints.append("the names look like another layout or version")
                }
                throw .auditFailed(path: path, audit: report)
            }
            return ModelWeights(path: path, layout: layout, unet: unet, firstStage: firstStage, task: task,
                                schedule: schedule ?? .preset(for: task), emaPresent: emaPresent, emaUsed: emaUsed,
                                provenance: provenance, sources: sources, recipes: recipes)
        }
    }
}
