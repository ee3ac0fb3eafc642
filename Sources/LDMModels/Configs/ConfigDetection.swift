/// Recognising a CompVis checkpoint's architecture from its weight shapes (docs/ldm-spec.md §1): candidate
/// configs are built from a few tell-tale tensors, and the one whose full parameter list matches
/// the file's keys and shapes exactly is taken. The tell-tale tensors' names are read off the
/// layouts of probe configs (every width 1: only their structure matters), so no key is spelled
/// here. Attention head counts are not visible in weights; they follow the released families
/// (ResBlock up/down sampling: 8 heads, as inpainting_big; conv up/down sampling: 32 channels per
/// head, as bsr_sr; Stable Diffusion's SpatialTransformers: 8 heads with conv projections (SD 1.x),
/// 64 channels per head with linear ones (SD 2.x)).
///
/// Candidates are not checked against `ConfigBounds` here: GroupNorm groups are not visible in
/// weights either (32 is assumed), and their walks are bounded by construction — 1 to 4 ResBlocks,
/// levels bounded by the tensor count, widths from shapes the readers have checked (zero-sized
/// ones refused below). `UNet` and `VQAutoencoder` validate the config before they are built.
enum ConfigDetection {
    /// - shapes: the U-Net's tensors without the `model.diffusion_model.` prefix.
    static func unet(_ shapes: [String: [Int]]) -> UNetConfig? {
        unet(count: shapes.count) { shapes[$0] }
    }

    /// - lookup: shape of a U-Net tensor by its module path (raw or, for EMA-only files, through
    ///   the flattened EMA name); count: how many U-Net tensors the file holds.
    static func unet(count: Int, lookup: (String) -> [Int]?) -> UNetConfig? {
        func shape(_ spec: ParameterSpec) -> [Int]? { lookup(String(spec.name.dropFirst(UNetLayout.prefix.count))) }
        /// Every level with attention; `cross`: SpatialTransformers of `deepest` blocks (to count the real depth).
        func probe(levels: Int, resBlocks: Int, cross: Bool = false) -> UNetLayout {
            UNetLayout(UNetConfig(inChannels: 1, outChannels: 1, modelChannels: 1, channelMult: Array(repeating: 1, count: levels),
                                  numResBlocks: resBlocks, attentionLevels: Array(0..<levels), heads: .count(1), resblockUpdown: !cross,
                                  crossAttention: cross ? .init(contextDim: 1, depth: ConfigBounds.resBlocks.upperBound) : nil))
        }
        /// A SpatialTransformer's numbers from its tensors: context width (attn2.to_k [C, D]), depth (blocks
        /// present), projection kind (proj_in stored [C, C] or [C, C, 1, 1]).
        func crossAttention(_ layout: (any UNetLayerLayout)?) -> UNetConfig.CrossAttention? {
            guard let transformer = layout as? SpatialTransformer.Layout, let projIn = shape(transformer.projIn.weight),
                  let first = transformer.blocks.first, let kv = first.crossKV.first.flatMap({ shape($0.weight) }), kv.count == 2 else { return nil }
            let depth = transformer.blocks.prefix { shape($0.norms[0].weight) != nil }.count
            return .init(contextDim: kv[1], depth: depth, linearProjection: projIn.count == 2)
        }
        /// Whether a SpatialTransformer's first attention reads the context (`onlyCrossAttention`): attn1.to_k stored
        /// [C, D] with D ≠ C. A context exactly as wide as the level cannot be told apart by shape and reads as
        /// self-attention (the x4 upscaler's only such level, 1024 wide, is a self-attention one).
        func readsContext(_ layout: (any UNetLayerLayout)?) -> Bool {
            guard let transformer = layout as? SpatialTransformer.Layout, let first = transformer.blocks.first,
                  let k = shape(first.selfQKV[1].weight), k.count == 2 else { return false }
            return k[0] != k[1]
        }
        let any = probe(levels: 1, resBlocks: 1)
        // A class embedding (`label_emb`: stable-diffusion-x4-upscaler's noise-level embedding) is [classes, 4·mc].
        var classProbe = any.config
        classProbe.classEmbeddings = 1
        let classes = UNetLayout(classProbe).classEmbedding.flatMap { shape($0.weight) }.flatMap { $0.count == 2 ? $0[0] : nil }
        guard let convIn = shape(any.convIn.weight), convIn.count == 4,
              let convOut = shape(any.outConv.weight), convOut.count == 4, convIn[0] > 0 else { return nil }
        let (mc, inChannels, outChannels) = (convIn[0], convIn[1], convOut[0])
        for resBlocks in 1...4 {
            // Each level has at least `resBlocks` ResBlocks of 10 tensors: that bounds the levels to probe.
            let levelCount = max(1, count / (10 * resBlocks))
            let levels = probe(levels: levelCount, resBlocks: resBlocks).down
            let crossProbe = probe(levels: levelCount, resBlocks: resBlocks, cross: true)
            var mult: [Int] = []
            var attention: [Int] = []
            var cross: UNetConfig.CrossAttention?
            var onlyCross: [Bool] = []
            // The levels: as many as have a first ResBlock, each with its width and whether it has attention
            // (openaimodel's AttentionBlock, or a SpatialTransformer for Stable Diffusion).
            for (level, crossLevel) in zip(levels, crossProbe.down) {
                let first = level.blocks[0].layers  // the probe's ResBlock and AttentionBlock
                guard let res = first.first?.layout as? ResBlock.Layout, let w = shape(res.outConv.weight), w.count == 4,
                      w[0] > 0, w[0] % mc == 0 else { break }
                if let qkv = (first.last?.layout as? AttentionBlock.Layout)?.qkv, shape(qkv.weight) != nil {
                    attention.append(mult.count)
                } else if let found = crossAttention(crossLevel.blocks[0].layers.last?.layout) {
                    attention.append(mult.count)
                    cross = found
                }
                onlyCross.append(readsContext(crossLevel.blocks[0].layers.last?.layout))
                mult.append(w[0] / mc)
            }
            guard !mult.isEmpty else { continue }
            // The mid block has attention of the same kind (a U-Net without attention levels shows it there only).
            cross = cross ?? crossAttention(crossProbe.middle.blocks[0].layers[1].layout)
            if onlyCross.contains(true) { cross?.onlyCrossAttention = onlyCross }
            if readsContext(crossProbe.middle.blocks[0].layers[1].layout) { cross?.middleOnlyCrossAttention = true }
            // Attention heads are not in the weights: SD 1.x (conv projections) has 8 heads at every width, SD 2.x
            // (linear projections) 64 channels per head, except the x4 upscaler (the one with a class embedding:
            // x4-upscaling.yaml num_heads 8); all sample with convolutions.
            // Down/up sampling is visible (op convolutions or ResBlocks) except with one level: ResBlocks first.
            var candidates: [UNetConfig] = if let cross {
                [UNetConfig(inChannels: inChannels, outChannels: outChannels, modelChannels: mc, channelMult: mult, numResBlocks: resBlocks,
                            attentionLevels: attention, heads: cross.linearProjection && classes == nil ? .channelsPerHead(64) : .count(8),
                            resblockUpdown: false, crossAttention: cross)]
            } else {
                [true, false].map { updown in
                    UNetConfig(inChannels: inChannels, outChannels: outChannels, modelChannels: mc, channelMult: mult,
                               numResBlocks: resBlocks, attentionLevels: attention,
                               heads: updown ? .count(8) : .channelsPerHead(32), resblockUpdown: updown)
                }
            }
            for i in candidates.indices { candidates[i].classEmbeddings = classes }
            for candidate in candidates {
                let specs = UNetLayout.parameters(candidate)
                if specs.count == count, specs.allSatisfy({ shape($0) == $0.shape }) { return candidate }
            }
        }
        return nil
    }

    /// - shapes: the first stage's tensors without the `first_stage_model.` prefix: VQ when a codebook
    /// (`quantize.embedding`) is there, KL when quant_conv maps 2z → 2z and there is none (`double_z`).
    static func firstStage(_ shapes: [String: [Int]]) -> FirstStageConfig? {
        if let vq = autoencoder(shapes, kind: .vq) { return .vq(vq) }
        // diffusers has one latent_channels: z_channels = embed_dim, as in every released KL model.
        guard let stages = autoencoder(shapes, kind: .kl), stages.zChannels == stages.embedDim else { return nil }
        var kl = KLAutoencoderConfig(channels: stages.channels, channelMult: stages.channelMult, numResBlocks: stages.numResBlocks,
                                     latentChannels: stages.zChannels, midAttention: stages.midAttention)
        // `scale_factor` lives in the YAML, not in the weights: SD 1.x/2.x's 0.18215 for KL-f8 (v1-inference.yaml), and
        // 0.08333 for KL-f4, which only the x4 upscaler has among released models (x4-upscaling.yaml, ch_mult [1, 2, 4]).
        if kl.downsamplingFactor == 4 { kl.scalingFactor = KLAutoencoderConfig.x4UpscalerScaling }
        (kl.inChannels, kl.outChannels) = (stages.inChannels, stages.outChannels)
        return .kl(kl)
    }

    /// - shapes: the autoencoder's tensors without the `first_stage_model.` prefix → the walk's config
    ///   whose `kind` parameter list matches them exactly.
    static func autoencoder(_ shapes: [String: [Int]], kind: AutoencoderLayout.Kind = .vq) -> AutoencoderConfig? {
        let prefix = AutoencoderLayout.prefix(kind)
        func shape(_ spec: ParameterSpec) -> [Int]? { shapes[String(spec.name.dropFirst(prefix.count))] }
        func probe(levels: Int, resBlocks: Int) -> AutoencoderLayout {
            AutoencoderLayout(AutoencoderConfig(channels: 1, channelMult: Array(repeating: 1, count: levels), numResBlocks: resBlocks), kind: kind)
        }
        /// Whether a SpatialTransformer's first attention reads the context (`onlyCrossAttention`): attn1.to_k stored
        /// [C, D] with D ≠ C. A context exactly as wide as the level cannot be told apart by shape and reads as
        /// self-attention (the x4 upscaler's only such level, 1024 wide, is a self-attention one).
        func readsContext(_ layout: (any UNetLayerLayout)?) -> Bool {
            guard let transformer = layout as? SpatialTransformer.Layout, let first = transformer.blocks.first,
                  let k = shape(first.selfQKV[1].weight), k.count == 2 else { return false }
            return k[0] != k[1]
        }
        let any = probe(levels: 1, resBlocks: 1)
        guard let convIn = shape(any.encoder.convIn.weight), let zOut = shape(any.encoder.convOut.weight),
              let quant = shape(any.quantConv.weight), convIn.count == 4, zOut.count == 4, quant.count == 4 else { return nil }
        let moments = kind == .kl ? 2 : 1
        var codebookSize = 0
        if let codebook = any.quantize {
            guard let c = shape(codebook.codebook.weight), c.count == 2 else { return nil }
            codebookSize = c[0]
        }
        guard zOut[0] % moments == 0, quant[0] % moments == 0 else { return nil }
        let ch = convIn[0]
        // Levels with a first ResnetBlock, ResnetBlocks at level 0 (each of at least 10 tensors).
        let limit = shapes.count / 10 + 1
        func exists(_ block: VQResnetBlock.Layout) -> Bool { shape(block.conv1.weight) != nil }
        let levels = probe(levels: limit, resBlocks: 1).encoder.levels.prefix { exists($0.blocks[0]) }
        let resBlocks = probe(levels: 1, resBlocks: limit).encoder.levels[0].blocks.prefix(while: exists).count
        guard !levels.isEmpty, resBlocks > 0, ch > 0 else { return nil }
        var mult: [Int] = []
        for level in levels {
            guard let w = shape(level.blocks[0].conv1.weight), w.count == 4, w[0] > 0, w[0] % ch == 0 else { return nil }
            mult.append(w[0] / ch)
        }
        var candidate = AutoencoderConfig(channels: ch, channelMult: mult, numResBlocks: resBlocks, zChannels: zOut[0] / moments,
                                          embedDim: quant[0] / moments, codebookSize: codebookSize,
                                          midAttention: any.encoder.mid.block.attention.map { shape($0.q.weight) != nil } ?? false)
        candidate.inChannels = convIn[1]
        candidate.outChannels = shape(any.decoder.convOut.weight)?.first ?? 3
        return matches(AutoencoderLayout(candidate, kind: kind).parameters, prefix: prefix, shapes) ? candidate : nil
    }

    static func matches(_ specs: [ParameterSpec], prefix: String, _ shapes: [String: [Int]]) -> Bool {
        specs.count == shapes.count && specs.allSatisfy { shapes[String($0.name.dropFirst(prefix.count))] == $0.shape }
    }
}
