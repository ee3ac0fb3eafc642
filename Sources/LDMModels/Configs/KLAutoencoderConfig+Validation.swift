extension KLAutoencoderConfig {
    /// Refuses numbers that describe no buildable KL autoencoder, naming the field as `spelling`
    /// spells it: the encoder/decoder stages share the VQ walk, so their bounds are the VQ config's
    /// (`AutoencoderConfig.validated`: levels, widths, ResBlocks, RGB in/out, latent channels, norm
    /// groups and eps; the codebook bound does not apply, a KL stage has none), and the latent
    /// scaling factor must be a positive finite number (SD 1.x: 0.18215). Every KL config read from
    /// a file passes here before its layout is walked.
    func validated(path: String, spelling: ConfigSpelling = .canonical(component: "klAutoencoder")) throws(CheckpointError) -> KLAutoencoderConfig {
        var shared = stages
        shared.codebookSize = 1
        _ = try shared.validated(path: path, spelling: spelling)
        let check = ConfigCheck(path: path, spelling: spelling)
        try check.require(scalingFactor.isFinite && scalingFactor > 0 && scalingFactor < 1e6,
                          check.name(diffusers: "scaling_factor", canonical: "scalingFactor"), "\(scalingFactor)",
                          expected: "a positive finite number (SD 1.x: 0.18215)")
        return self
    }
}
