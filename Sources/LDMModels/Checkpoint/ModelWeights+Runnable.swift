extension ModelWeights {
    /// Throws what building the model would throw for its configuration, without building it (a list of
    /// models to offer must not name one that fails when chosen): the U-Net config checks `UNet` repeats for
    /// configs it was not read through (a CompVis checkpoint's detected config keeps the released GroupNorm
    /// count, which a narrow test U-Net cannot take), and a text-conditioned U-Net needs its text encoder.
    public func checkRunnable() throws(CheckpointError) {
        _ = try unet.validated(path: path)
        if unet.crossAttention != nil, textEncoder == nil {
            throw .unsupportedModel(path: path, reason: "a Stable Diffusion U-Net without its CLIP text encoder (text_encoder/ or "
                                        + "cond_stage_model.transformer.*) cannot run")
        }
    }
}
