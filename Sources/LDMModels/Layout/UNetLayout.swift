/// The canonical parameter list of a U-Net config, in module order, with diffusers names
/// (openaimodel.py `UNetModel.__init__`; diffusers mapping per ldm-spec §6.3).
public enum UNetLayout {
    public static let prefix = "unet."

    public static func parameters(_ c: UNetConfig) -> [ParameterSpec] {
        var specs: [ParameterSpec] = []
        func add(_ name: String, _ shape: [Int], _ diffusers: String, old: String? = nil) {
            specs.append(ParameterSpec(name: prefix + name, shape: shape, diffusers: .tensor(names: [diffusers] + (old.map { [$0] } ?? []))))
        }
        func conv(_ name: String, _ o: Int, _ i: Int, _ k: Int, _ d: String) {
            add(name + ".weight", [o, i, k, k], d + ".weight")
            add(name + ".bias", [o], d + ".bias")
        }
        func norm(_ name: String, _ ch: Int, _ d: String) {
            add(name + ".weight", [ch], d + ".weight")
            add(name + ".bias", [ch], d + ".bias")
        }
        let emb = c.timeEmbedChannels
        func resBlock(_ name: String, _ cin: Int, _ cout: Int, _ d: String) {
            norm(name + ".in_layers.0", cin, d + ".norm1")
            conv(name + ".in_layers.2", cout, cin, 3, d + ".conv1")
            add(name + ".emb_layers.1.weight", [cout, emb], d + ".time_emb_proj.weight")
            add(name + ".emb_layers.1.bias", [cout], d + ".time_emb_proj.bias")
            norm(name + ".out_layers.0", cout, d + ".norm2")
            conv(name + ".out_layers.3", cout, cout, 3, d + ".conv2")
            if cin != cout { conv(name + ".skip_connection", cout, cin, 1, d + ".conv_shortcut") }
        }
        func attention(_ name: String, _ ch: Int, _ d: String) {
            norm(name + ".norm", ch, d + ".group_norm")
            let heads = c.heads.heads(channels: ch)
            for part in ["weight", "bias"] {
                specs.append(ParameterSpec(
                    name: prefix + name + ".qkv." + part, shape: part == "weight" ? [3 * ch, ch, 1] : [3 * ch],
                    diffusers: .fusedQKV(q: ["\(d).to_q.\(part)", "\(d).query.\(part)"], k: ["\(d).to_k.\(part)", "\(d).key.\(part)"],
                                         v: ["\(d).to_v.\(part)", "\(d).value.\(part)"], heads: heads)))
            }
            add(name + ".proj_out.weight", [ch, ch, 1], d + ".to_out.0.weight", old: d + ".proj_attn.weight")
            add(name + ".proj_out.bias", [ch], d + ".to_out.0.bias", old: d + ".proj_attn.bias")
        }

        add("time_embed.0.weight", [emb, c.modelChannels], "time_embedding.linear_1.weight")
        add("time_embed.0.bias", [emb], "time_embedding.linear_1.bias")
        add("time_embed.2.weight", [emb, emb], "time_embedding.linear_2.weight")
        add("time_embed.2.bias", [emb], "time_embedding.linear_2.bias")
        conv("input_blocks.0.0", c.modelChannels, c.inChannels, 3, "conv_in")

        var ch = c.modelChannels
        var skips = [ch]
        var index = 1
        let levels = c.channelMult.count
        for level in 0..<levels {
            for j in 0..<c.numResBlocks {
                let out = c.width(level: level)
                resBlock("input_blocks.\(index).0", ch, out, "down_blocks.\(level).resnets.\(j)")
                ch = out
                if c.attentionLevels.contains(level) {
                    attention("input_blocks.\(index).1", ch, "down_blocks.\(level).attentions.\(j)")
                }
                skips.append(ch)
                index += 1
            }
            if level != levels - 1 {
                if c.resblockUpdown {
                    resBlock("input_blocks.\(index).0", ch, ch, "down_blocks.\(level).downsamplers.0")
                } else {
                    conv("input_blocks.\(index).0.op", ch, ch, 3, "down_blocks.\(level).downsamplers.0.conv")
                }
                skips.append(ch)
                index += 1
            }
        }
        resBlock("middle_block.0", ch, ch, "mid_block.resnets.0")
        attention("middle_block.1", ch, "mid_block.attentions.0")
        resBlock("middle_block.2", ch, ch, "mid_block.resnets.1")

        index = 0
        for level in stride(from: levels - 1, through: 0, by: -1) {
            let up = levels - 1 - level
            for j in 0...c.numResBlocks {
                let skip = skips.removeLast()
                let out = c.width(level: level)
                resBlock("output_blocks.\(index).0", ch + skip, out, "up_blocks.\(up).resnets.\(j)")
                ch = out
                var sub = 1
                if c.attentionLevels.contains(level) {
                    attention("output_blocks.\(index).1", ch, "up_blocks.\(up).attentions.\(j)")
                    sub = 2
                }
                if level != 0, j == c.numResBlocks {
                    if c.resblockUpdown {
                        resBlock("output_blocks.\(index).\(sub)", ch, ch, "up_blocks.\(up).upsamplers.0")
                    } else {
                        conv("output_blocks.\(index).\(sub).conv", ch, ch, 3, "up_blocks.\(up).upsamplers.0.conv")
                    }
                }
                index += 1
            }
        }
        norm("out.0", ch, "conv_norm_out")
        conv("out.2", c.outChannels, ch, 3, "conv_out")
        return specs
    }
}
