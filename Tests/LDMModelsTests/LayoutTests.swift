import Testing
@testable import LDMModels

@Suite struct LayoutTests {
    static func count(_ specs: [ParameterSpec]) -> Int { specs.reduce(0) { $0 + $1.shape.reduce(1, *) } }

    /// Parameter counts of the real models, built in PyTorch for docs/ldm-spec.md §1.2–1.3 / §7.
    @Test func realModelsHaveTheReferenceParameterCounts() {
        #expect(Self.count(UNetLayout.parameters(.superResolution4x)) == 113_622_563)
        #expect(Self.count(UNetLayout.parameters(.inpaintingBig)) == 387_245_827)
        #expect(Self.count(AutoencoderLayout.parameters(.vqF4)) == 55_322_782)
        #expect(Self.count(AutoencoderLayout.parameters(.vqF4NoAttention)) == 53_219_486)
    }

    /// Tensor counts: CompVis ckpt prefixes hold 306 (SR) / 416 (inpainting) U-Net tensors and 205 /
    /// 185 VQ tensors (docs/ldm-spec.md §6.1).
    @Test func realModelsHaveTheReferenceTensorCounts() {
        #expect(UNetLayout.parameters(.superResolution4x).count == 306)
        #expect(UNetLayout.parameters(.inpaintingBig).count == 416)
        #expect(AutoencoderLayout.parameters(.vqF4).count == 205)
        #expect(AutoencoderLayout.parameters(.vqF4NoAttention).count == 185)
    }

    @Test func keyNamesFollowTheSpecTables() {
        let sr = Set(UNetLayout.parameters(.superResolution4x).map(\.name))
        for key in ["unet.input_blocks.3.0.op.weight", "unet.output_blocks.2.2.conv.weight", "unet.output_blocks.5.1.conv.bias",
                    "unet.input_blocks.10.1.qkv.weight", "unet.input_blocks.4.0.skip_connection.weight", "unet.out.2.weight"] {
            #expect(sr.contains(key), "\(key)")
        }
        let inpaint = Set(UNetLayout.parameters(.inpaintingBig).map(\.name))
        for key in ["unet.input_blocks.3.0.in_layers.2.weight", "unet.output_blocks.2.2.out_layers.3.weight",
                    "unet.input_blocks.4.1.qkv.weight", "unet.middle_block.1.proj_out.weight"] {
            #expect(inpaint.contains(key), "\(key)")
        }
        let vq = Set(AutoencoderLayout.parameters(.vqF4).map(\.name))
        for key in ["vq.decoder.up.0.block.2.conv2.weight", "vq.decoder.up.2.upsample.conv.weight", "vq.encoder.mid.attn_1.q.weight",
                    "vq.quantize.embedding.weight", "vq.encoder.down.1.block.0.nin_shortcut.weight"] {
            #expect(vq.contains(key), "\(key)")
        }
    }
}
