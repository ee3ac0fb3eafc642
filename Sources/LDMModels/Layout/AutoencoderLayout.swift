/// The canonical parameter list of a VQ autoencoder config (CompVis model.py Encoder/Decoder +
/// VectorQuantizer2), with diffusers `VQModel` names (ldm-spec §6.3, VQ table).
public enum AutoencoderLayout {
    public static let prefix = "vq."

    public static func parameters(_ c: AutoencoderConfig) -> [ParameterSpec] {
        var specs: [ParameterSpec] = []
        func add(_ name: String, _ shape: [Int], _ names: [String]) {
            specs.append(ParameterSpec(name: prefix + name, shape: shape, diffusers: .tensor(names: names)))
        }
        func conv(_ name: String, _ o: Int, _ i: Int, _ k: Int, _ d: String, old: String? = nil) {
            add(name + ".weight", [o, i, k, k], [d + ".weight"] + (old.map { [$0 + ".weight"] } ?? []))
            add(name + ".bias", [o], [d + ".bias"] + (old.map { [$0 + ".bias"] } ?? []))
        }
        func norm(_ name: String, _ ch: Int, _ d: String) {
            add(name + ".weight", [ch], [d + ".weight"])
            add(name + ".bias", [ch], [d + ".bias"])
        }
        func resnet(_ name: String, _ cin: Int, _ cout: Int, _ d: String) {
            norm(name + ".norm1", cin, d + ".norm1")
            conv(name + ".conv1", cout, cin, 3, d + ".conv1")
            norm(name + ".norm2", cout, d + ".norm2")
            conv(name + ".conv2", cout, cout, 3, d + ".conv2")
            if cin != cout { conv(name + ".nin_shortcut", cout, cin, 1, d + ".conv_shortcut") }
        }
        func mid(_ side: String, _ ch: Int) {
            resnet("\(side).mid.block_1", ch, ch, "\(side).mid_block.resnets.0")
            if c.midAttention {
                let a = "\(side).mid_block.attentions.0"
                norm("\(side).mid.attn_1.norm", ch, a + ".group_norm")
                conv("\(side).mid.attn_1.q", ch, ch, 1, a + ".to_q", old: a + ".query")
                conv("\(side).mid.attn_1.k", ch, ch, 1, a + ".to_k", old: a + ".key")
                conv("\(side).mid.attn_1.v", ch, ch, 1, a + ".to_v", old: a + ".value")
                conv("\(side).mid.attn_1.proj_out", ch, ch, 1, a + ".to_out.0", old: a + ".proj_attn")
            }
            resnet("\(side).mid.block_2", ch, ch, "\(side).mid_block.resnets.1")
        }
        let levels = c.channelMult.count
        // Encoder
        conv("encoder.conv_in", c.channels, c.inChannels, 3, "encoder.conv_in")
        var blockIn = c.channels
        for level in 0..<levels {
            let blockOut = c.channels * c.channelMult[level]
            for j in 0..<c.numResBlocks {
                resnet("encoder.down.\(level).block.\(j)", blockIn, blockOut, "encoder.down_blocks.\(level).resnets.\(j)")
                blockIn = blockOut
            }
            if level != levels - 1 {
                conv("encoder.down.\(level).downsample.conv", blockIn, blockIn, 3, "encoder.down_blocks.\(level).downsamplers.0.conv")
            }
        }
        mid("encoder", blockIn)
        norm("encoder.norm_out", blockIn, "encoder.conv_norm_out")
        conv("encoder.conv_out", c.zChannels, blockIn, 3, "encoder.conv_out")
        conv("quant_conv", c.embedDim, c.zChannels, 1, "quant_conv")
        add("quantize.embedding.weight", [c.codebookSize, c.embedDim], ["quantize.embedding.weight"])
        conv("post_quant_conv", c.zChannels, c.embedDim, 1, "post_quant_conv")
        // Decoder: stored up.0 = highest resolution; run from up.(levels-1) down to up.0.
        blockIn = c.channels * c.channelMult[levels - 1]
        conv("decoder.conv_in", blockIn, c.zChannels, 3, "decoder.conv_in")
        mid("decoder", blockIn)
        for level in stride(from: levels - 1, through: 0, by: -1) {
            let u = levels - 1 - level
            let blockOut = c.channels * c.channelMult[level]
            for j in 0...c.numResBlocks {
                resnet("decoder.up.\(level).block.\(j)", blockIn, blockOut, "decoder.up_blocks.\(u).resnets.\(j)")
                blockIn = blockOut
            }
            if level != 0 {
                conv("decoder.up.\(level).upsample.conv", blockIn, blockIn, 3, "decoder.up_blocks.\(u).upsamplers.0.conv")
            }
        }
        norm("decoder.norm_out", blockIn, "decoder.conv_norm_out")
        conv("decoder.conv_out", c.outChannels, blockIn, 3, "decoder.conv_out")
        return specs
    }
}
