extension AutoencoderConfig {
    /// Refuses numbers that describe no buildable VQ autoencoder, or one whose shapes could overflow
    /// (`ConfigBounds` gives each bound and why), naming the field as `spelling` spells it. Every
    /// config read from a file passes here before its layout is walked; `VQAutoencoder` checks again
    /// for direct callers. Checked, in this order:
    /// - levels (1 to 8) and widths (1 to 8192 channels each): `channelMult` / `channels`, diffusers
    ///   `block_out_channels`;
    /// - ResBlocks per level, 1 to 16 (`numResBlocks`, `layers_per_block`): the walk's loop bound;
    /// - image channels in and out: 3 (ldm-edit edits RGB images);
    /// - `zChannels` (`latent_channels`) and `embedDim` (`vq_embed_dim`): 1 to 1024;
    /// - codebook entries (`codebookSize`, `num_vq_embeddings`): 1 to 2^20;
    /// - GroupNorm groups (`normGroups`, `norm_num_groups`): at least 1 and dividing every width
    ///   (so `channels`, the narrowest);
    /// - GroupNorm eps (`ConfigBounds.isNormEps`).
    func validated(path: String, spelling: ConfigSpelling = .canonical(component: "autoencoder")) throws(CheckpointError) -> AutoencoderConfig {
        let check = ConfigCheck(path: path, spelling: spelling)
        let widthsField = check.name(diffusers: "block_out_channels", canonical: "channelMult")
        let widthsValue = check.isDiffusers
            ? "[" + channelMult.map { ConfigCheck.product(channels, $0) }.joined(separator: ", ") + "]" : "\(channelMult)"
        let widthRange = ConfigBounds.text(ConfigBounds.width)
        try check.require(ConfigBounds.levels.contains(channelMult.count), widthsField, widthsValue,
                          expected: "\(ConfigBounds.text(ConfigBounds.levels)) levels (VQ-f4 has 3)")
        try check.require(ConfigBounds.width.contains(channels), check.name(diffusers: "block_out_channels", canonical: "channels"),
                          check.isDiffusers ? widthsValue : "\(channels)", expected: "widths of \(widthRange) channels")
        let widestMult = ConfigBounds.width.upperBound / channels
        try check.require(channelMult.allSatisfy { (1...widestMult).contains($0) }, widthsField, widthsValue,
                          expected: check.isDiffusers ? "widths of \(widthRange) channels"
                              : "multipliers of at least 1 giving widths (channels × channelMult) of at most \(ConfigBounds.width.upperBound) channels")
        try check.require(ConfigBounds.resBlocks.contains(numResBlocks), check.name(diffusers: "layers_per_block", canonical: "numResBlocks"),
                          "\(numResBlocks)", expected: "\(ConfigBounds.text(ConfigBounds.resBlocks)) ResBlocks per level (VQ-f4: 2)")
        let rgb = "\(ConfigBounds.imageChannels) (ldm-edit edits RGB images)"
        try check.require(inChannels == ConfigBounds.imageChannels, check.name(diffusers: "in_channels", canonical: "inChannels"),
                          "\(inChannels)", expected: rgb)
        try check.require(outChannels == ConfigBounds.imageChannels, check.name(diffusers: "out_channels", canonical: "outChannels"),
                          "\(outChannels)", expected: rgb)
        let latent = "\(ConfigBounds.text(ConfigBounds.endChannels)) channels (VQ-f4: 3)"
        try check.require(ConfigBounds.endChannels.contains(zChannels), check.name(diffusers: "latent_channels", canonical: "zChannels"),
                          "\(zChannels)", expected: latent)
        try check.require(ConfigBounds.endChannels.contains(embedDim), check.name(diffusers: "vq_embed_dim", canonical: "embedDim"),
                          "\(embedDim)", expected: latent)
        try check.require(ConfigBounds.codebook.contains(codebookSize), check.name(diffusers: "num_vq_embeddings", canonical: "codebookSize"),
                          "\(codebookSize)", expected: "\(ConfigBounds.text(ConfigBounds.codebook)) codebook entries (VQ-f4: 8192)")
        try check.require(normGroups >= 1 && channels % normGroups == 0, check.name(diffusers: "norm_num_groups", canonical: "normGroups"),
                          "\(normGroups)", expected: "a group count dividing every width, so \(channels) (released: 32)")
        try check.require(ConfigBounds.isNormEps(normEps), check.name(diffusers: "norm_eps", canonical: "normEps"), "\(normEps)",
                          expected: "a positive number of at most 1 (released: 1e-06)")
        return self
    }
}
