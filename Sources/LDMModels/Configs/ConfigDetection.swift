/// Recognising a CompVis checkpoint's architecture from its weight shapes (ldm-spec §1): candidate
/// configs are built from a few tell-tale tensors, and the one whose full parameter list matches
/// the file's keys and shapes exactly is taken. Attention head counts are not visible in weights;
/// they follow the two released families (ResBlock up/down sampling: 8 heads, as inpainting_big;
/// conv up/down sampling: 32 channels per head, as bsr_sr).
enum ConfigDetection {
    /// - shapes: the U-Net's tensors without the `model.diffusion_model.` prefix.
    static func unet(_ shapes: [String: [Int]]) -> UNetConfig? {
        unet(count: shapes.count) { shapes[$0] }
    }

    /// - lookup: shape of a U-Net tensor by its module path (raw or, for EMA-only files, through
    ///   the flattened EMA name); count: how many U-Net tensors the file holds.
    static func unet(count: Int, lookup: (String) -> [Int]?) -> UNetConfig? {
        guard let convIn = lookup("input_blocks.0.0.weight"), convIn.count == 4,
              let convOut = lookup("out.2.weight"), convOut.count == 4 else { return nil }
        let (mc, inChannels, outChannels) = (convIn[0], convIn[1], convOut[0])
        var inputBlocks = 1
        var updown = true
        while true {
            if lookup("input_blocks.\(inputBlocks).0.op.weight") != nil {
                updown = false
            } else if lookup("input_blocks.\(inputBlocks).0.in_layers.0.weight") == nil {
                break
            }
            inputBlocks += 1
        }
        for resBlocks in 1...4 where inputBlocks % (resBlocks + 1) == 0 {
            let levels = inputBlocks / (resBlocks + 1)
            var mult: [Int] = []
            var attention: [Int] = []
            for level in 0..<levels {
                let index = 1 + level * (resBlocks + 1)
                guard let w = lookup("input_blocks.\(index).0.out_layers.3.weight"), mc > 0, w[0] % mc == 0 else { break }
                mult.append(w[0] / mc)
                if lookup("input_blocks.\(index).1.qkv.weight") != nil { attention.append(level) }
            }
            guard mult.count == levels else { continue }
            let candidate = UNetConfig(inChannels: inChannels, outChannels: outChannels, modelChannels: mc, channelMult: mult,
                                       numResBlocks: resBlocks, attentionLevels: attention,
                                       heads: updown ? .count(8) : .channelsPerHead(32), resblockUpdown: updown)
            let specs = UNetLayout.parameters(candidate)
            if specs.count == count, specs.allSatisfy({ lookup(String($0.name.dropFirst(UNetLayout.prefix.count))) == $0.shape }) {
                return candidate
            }
        }
        return nil
    }

    /// - shapes: the autoencoder's tensors without the `first_stage_model.` prefix.
    static func autoencoder(_ shapes: [String: [Int]]) -> AutoencoderConfig? {
        guard let convIn = shapes["encoder.conv_in.weight"], let zOut = shapes["encoder.conv_out.weight"],
              let quant = shapes["quant_conv.weight"], let codebook = shapes["quantize.embedding.weight"],
              convIn.count == 4, zOut.count == 4, quant.count == 4, codebook.count == 2 else { return nil }
        let ch = convIn[0]
        let levels = Set(shapes.keys.compactMap { blockIndex($0, "encoder.down.") }).count
        let resBlocks = Set(shapes.keys.compactMap { blockIndex($0, "encoder.down.0.block.") }).count
        guard levels > 0, resBlocks > 0, ch > 0 else { return nil }
        var mult: [Int] = []
        for level in 0..<levels {
            guard let w = shapes["encoder.down.\(level).block.0.conv1.weight"], w[0] % ch == 0 else { return nil }
            mult.append(w[0] / ch)
        }
        var candidate = AutoencoderConfig(channels: ch, channelMult: mult, numResBlocks: resBlocks, zChannels: zOut[0],
                                          embedDim: quant[0], codebookSize: codebook[0],
                                          midAttention: shapes["encoder.mid.attn_1.q.weight"] != nil)
        candidate.inChannels = convIn[1]
        candidate.outChannels = shapes["decoder.conv_out.weight"]?.first ?? 3
        return matches(AutoencoderLayout.parameters(candidate), prefix: AutoencoderLayout.prefix, shapes) ? candidate : nil
    }

    static func matches(_ specs: [ParameterSpec], prefix: String, _ shapes: [String: [Int]]) -> Bool {
        specs.count == shapes.count && specs.allSatisfy { shapes[String($0.name.dropFirst(prefix.count))] == $0.shape }
    }

    /// N in "<prefix>N.…".
    private static func blockIndex(_ key: String, _ prefix: String) -> Int? {
        guard key.hasPrefix(prefix) else { return nil }
        return Int(key.dropFirst(prefix.count).prefix { $0.isNumber })
    }
}
