extension UNetConfig {
    /// Refuses numbers that describe no buildable U-Net, or one whose shapes could overflow
    /// (`ConfigBounds` gives each bound and why), naming the field as `spelling` spells it. Every
    /// config read from a file passes here before its layout is walked; `UNet` checks again for
    /// direct callers. Checked, in this order:
    /// - levels (1 to 8) and widths (1 to 8192 channels each): `channelMult` / `modelChannels`,
    ///   diffusers `block_out_channels`;
    /// - ResBlocks per level, 1 to 16 (`numResBlocks`, `layers_per_block`): the walk's loop bound;
    /// - input and output channels, 1 to 1024 (the task check against the latent comes later);
    /// - GroupNorm groups (`normGroups`, `norm_num_groups`): at least 1 and dividing every width
    ///   (so `modelChannels`, the narrowest; `nn.GroupNorm` refuses anything else);
    /// - attention levels inside 0 ..< levels;
    /// - heads: a count (`ldm_edit_num_heads`; UNet2DConditionModel's `attention_head_dim`) or channels per head (`attention_head_dim`, at most
    ///   8192) that splits every attention width (the attention levels' and the mid block's) into
    ///   whole heads (`QKVAttentionLegacy` reshapes C into heads × C/heads);
    /// - GroupNorm eps (`ConfigBounds.isNormEps`);
    /// - cross-attention: a context width of 1 to 8192 (`context_dim`, `cross_attention_dim`) and 1 to
    ///   16 transformer blocks per place (`transformer_depth`, `transformer_layers_per_block`);
    /// - class embeddings: 1 to 2^20 rows (`num_classes`, `num_class_embeds`).
    func validated(path: String, spelling: ConfigSpelling = .canonical(component: "unet")) throws(CheckpointError) -> UNetConfig {
        let check = ConfigCheck(path: path, spelling: spelling)
        let levels = channelMult.count
        let widthsField = check.name(diffusers: "block_out_channels", canonical: "channelMult")
        let widthsValue = check.isDiffusers
            ? "[" + channelMult.map { ConfigCheck.product(modelChannels, $0) }.joined(separator: ", ") + "]" : "\(channelMult)"
        let widthRange = ConfigBounds.text(ConfigBounds.width)
        try check.require(ConfigBounds.levels.contains(levels), widthsField, widthsValue,
                          expected: "\(ConfigBounds.text(ConfigBounds.levels)) levels (released U-Nets have 4)")
        try check.require(ConfigBounds.width.contains(modelChannels), check.name(diffusers: "block_out_channels", canonical: "modelChannels"),
                          check.isDiffusers ? widthsValue : "\(modelChannels)", expected: "widths of \(widthRange) channels")
        let widestMult = ConfigBounds.width.upperBound / modelChannels
        try check.require(channelMult.allSatisfy { (1...widestMult).contains($0) }, widthsField, widthsValue,
                          expected: check.isDiffusers ? "widths of \(widthRange) channels"
                              : "multipliers of at least 1 giving widths (modelChannels × channelMult) of at most \(ConfigBounds.width.upperBound) channels")
        try check.require(ConfigBounds.resBlocks.contains(numResBlocks), check.name(diffusers: "layers_per_block", canonical: "numResBlocks"),
                          "\(numResBlocks)", expected: "\(ConfigBounds.text(ConfigBounds.resBlocks)) ResBlocks per level (released: 2)")
        let ends = "\(ConfigBounds.text(ConfigBounds.endChannels)) channels"
        try check.require(ConfigBounds.endChannels.contains(inChannels), check.name(diffusers: "in_channels", canonical: "inChannels"),
                          "\(inChannels)", expected: ends)
        try check.require(ConfigBounds.endChannels.contains(outChannels), check.name(diffusers: "out_channels", canonical: "outChannels"),
                          "\(outChannels)", expected: ends)
        try check.require(normGroups >= 1 && modelChannels % normGroups == 0, check.name(diffusers: "norm_num_groups", canonical: "normGroups"),
                          "\(normGroups)", expected: "a group count dividing every width, so \(modelChannels) (released: 32)")
        try check.require(attentionLevels.allSatisfy { (0..<levels).contains($0) }, check.name(diffusers: "down_block_types", canonical: "attentionLevels"),
                          "\(attentionLevels)", expected: "levels 0 to \(levels - 1)")
        // The mid block always has attention, at the last level's width.
        let attentionWidths = Set(attentionLevels + [levels - 1]).map { width(level: $0) }.sorted()
        switch heads {
        case .count(let n):
            try check.require(n >= 1 && attentionWidths.allSatisfy { $0 % n == 0 }, check.name(diffusers: crossAttention == nil ? "ldm_edit_num_heads" : "attention_head_dim", canonical: "heads"),
                              check.isDiffusers ? "\(n)" : "count(\(n))",
                              expected: "a head count dividing every attention width \(attentionWidths) (released: 8)")
        case .channelsPerHead(let d):
            try check.require(ConfigBounds.width.contains(d) && attentionWidths.allSatisfy { $0 % heads.heads(channels: $0) == 0 },
                              check.name(diffusers: "attention_head_dim", canonical: "heads"), check.isDiffusers ? "\(d)" : "channelsPerHead(\(d))",
                              expected: "\(widthRange) channels per head, splitting every attention width \(attentionWidths) into whole heads (released: 32)")
        }
        try check.require(ConfigBounds.isNormEps(normEps), check.name(diffusers: "norm_eps", canonical: "normEps"), "\(normEps)",
                          expected: "a positive number of at most 1 (released: 1e-05)")
        if let cross = crossAttention {
            try check.require(ConfigBounds.width.contains(cross.contextDim), check.name(diffusers: "cross_attention_dim", canonical: "crossAttention.contextDim"),
                              "\(cross.contextDim)", expected: "a context width of \(widthRange) (SD 1.x: 768)")
            try check.require(ConfigBounds.resBlocks.contains(cross.depth), check.name(diffusers: "transformer_layers_per_block", canonical: "crossAttention.depth"),
                              "\(cross.depth)", expected: "\(ConfigBounds.text(ConfigBounds.resBlocks)) transformer blocks per attention (SD: 1)")
            if let only = cross.onlyCrossAttention {
                try check.require(only.count == levels, check.name(diffusers: "only_cross_attention", canonical: "crossAttention.onlyCrossAttention"),
                                  "\(only)", expected: "one entry per level (\(levels))")
            }
        }
        if let classes = classEmbeddings {
            try check.require(ConfigBounds.codebook.contains(classes), check.name(diffusers: "num_class_embeds", canonical: "classEmbeddings"),
                              "\(classes)", expected: "\(ConfigBounds.text(ConfigBounds.codebook)) class embeddings (x4 upscaler: 1000)")
        }
        return self
    }
}
