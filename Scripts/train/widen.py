"""Widen a trained inpainting U-Net (unets.build) into a wider candidate of the same design, keeping what it
learned: the way out of a plateau at the old size without starting from scratch (Scripts/train/README.md
"Widening the inpainting U-Net").

Every old channel keeps its place within its GroupNorm group (the config's groups, 16, at every width: old channel c of a level
with k channels per group goes to g·k' + i, g = c // k, i = c % k), and with it its attention head (8 heads = 2
groups each). The new channels' incoming weights are the fresh model's initialisation shrunk by NEW_SCALE, their
outgoing weights into old channels are zero: the wide model computes the old function except for the GroupNorm
statistics, which the small new channels shift a little (`python widen.py` measures both). In attention,
the new query dimensions start at zero (keys random, so they learn) and the old queries are scaled by
√(d_new / d_old) to keep the scores under the wider head's 1/√d.

The level of every tensor dimension follows diffusers' UNet2DModel (unet_2d.py, unet_2d_blocks.py: an up block's
ResNets take cat([h, skip]) with skip channels `in_channels` for its last layer, `out_channels` otherwise).
"""
import re

import torch

NEW_SCALE = 0.1


def dim_levels(key, shape, levels, layers):
    """The level of every channel segment of each dimension of `key`: a list, per dimension, of level lists
    ([] = not a channel dimension of the U-Net's widths). `levels` = number of levels, `layers` = layers_per_block."""
    last = levels - 1
    none = [[] for _ in shape]
    if key.startswith("time_embedding") or key.startswith("time_proj"):
        return none
    if key.startswith("conv_in."):
        return [[0]] + [[] for _ in shape[1:]]
    if key.startswith("conv_norm_out."):
        return [[0]]
    if key.startswith("conv_out."):
        return [[], [0]] + [[] for _ in shape[2:]] if key.endswith("weight") else none
    m = re.match(r"(down_blocks|up_blocks)\.(\d+)\.(resnets|attentions|downsamplers|upsamplers)\.(\d+)\.(.*)", key)
    if key.startswith("mid_block."):
        m2 = re.match(r"mid_block\.(resnets|attentions)\.(\d+)\.(.*)", key)
        kind, rest = m2.group(1), m2.group(3)
        inp, out = [last], [last]
    else:
        where, block, kind, j, rest = m.group(1), int(m.group(2)), m.group(3), int(m.group(4)), m.group(5)
        if where == "down_blocks":
            level = block
            inp = [level - 1] if (kind == "resnets" and j == 0 and level > 0) else [level]
            out = [level]
        else:
            level = last - block
            prev = level if block == 0 else level + 1
            skip = max(level - 1, 0) if j == layers else level
            inp = ([prev] if j == 0 else [level]) + [skip] if kind == "resnets" else [level]
            out = [level]
    if kind == "attentions":
        if rest.startswith("group_norm"):
            return [out]
        return [out, out] if rest.endswith("weight") else [out]
    # ResNet blocks (including the resnet down/up samplers)
    if rest.startswith("norm1"):
        return [inp]
    if rest.startswith("conv1") or rest.startswith("conv_shortcut"):
        return [out, inp, [], []] if rest.endswith("weight") else [out]
    if rest.startswith("time_emb_proj"):
        return [out, []] if rest.endswith("weight") else [out]
    if rest.startswith("norm2"):
        return [out]
    if rest.startswith("conv2"):
        return [out, out, [], []] if rest.endswith("weight") else [out]
    raise ValueError(f"widen: no rule for {key}")


def channel_map(segments, old_widths, new_widths, groups):
    """Old index → new index along one dimension made of `segments` (levels, concatenated), and the new size."""
    idx, base = [], 0
    for level in segments:
        k_old, k_new = old_widths[level] // groups, new_widths[level] // groups
        idx += [base + (c // k_old) * k_new + c % k_old for c in range(old_widths[level])]
        base += new_widths[level]
    return torch.tensor(idx), base


def widen(small, wide):
    """Copies `small`'s weights into `wide` (both unets.build, same design, wide's widths ≥ small's per level, the
    first level equal) as the module docstring says. small, wide: UNet2DModel → None (wide is changed in place)."""
    old_w, new_w = list(small.config.block_out_channels), list(wide.config.block_out_channels)
    groups, heads = small.config.norm_num_groups, small.config.get("ldm_edit_num_heads", 8)
    if old_w[0] != new_w[0] or any(n < o or n % groups or o % groups for o, n in zip(old_w, new_w)):
        raise ValueError(f"widen: cannot widen {old_w} into {new_w} (first level equal, others ≥, multiples of {groups})")
    if groups % heads or wide.config.norm_num_groups != groups:
        raise ValueError(f"widen: {groups} GroupNorm groups in both, a multiple of the {heads} heads, keep channels in their heads")
    layers = small.config.layers_per_block
    old_sd, new_sd = small.state_dict(), wide.state_dict()
    if old_sd.keys() != new_sd.keys():
        raise ValueError("widen: the two U-Nets have different layers: " + str(sorted(set(old_sd) ^ set(new_sd))[:5]))
    out = {}
    for key, old in old_sd.items():
        new = new_sd[key].clone()
        segs = dim_levels(key, old.shape, len(old_w), layers)
        maps = []
        for d, levels in enumerate(segs):
            if levels:
                m, size = channel_map(levels, old_w, new_w, groups)
                if sum(old_w[lv] for lv in levels) != old.shape[d] or size != new.shape[d]:
                    raise ValueError(f"widen: {key} dim {d}: levels {levels} do not give {tuple(old.shape)} → {tuple(new.shape)}")
                maps.append(m)
            else:
                if old.shape[d] != new.shape[d]:
                    raise ValueError(f"widen: {key} dim {d} changes size but has no level")
                maps.append(torch.arange(old.shape[d]))
        is_norm = ".norm" in key or "group_norm" in key or key.startswith("conv_norm_out")
        if not is_norm and key.endswith("weight") and old.dim() >= 2:
            new *= NEW_SCALE
            # the outgoing weights of new input channels into old output channels: zero
            old_out = torch.zeros(new.shape[0], dtype=torch.bool)
            old_out[maps[0]] = True
            new_in = torch.ones(new.shape[1], dtype=torch.bool)
            new_in[maps[1]] = False
            new[old_out[:, None] & new_in[None, :]] = 0
        elif not is_norm and key.endswith("bias"):
            new *= NEW_SCALE
        new[torch.meshgrid(*maps, indexing="ij")] = old
        if ".attentions." in key and ".to_q." in key:
            # the score scale 1/√d of a head: d = width / heads grows with the width
            new[maps[0]] *= (new.shape[0] / old.shape[0]) ** 0.5
            fresh = torch.ones(new.shape[0], dtype=torch.bool)
            fresh[maps[0]] = False
            new[fresh] = 0
        out[key] = new
    wide.load_state_dict(out)


def check():
    """Prints how far the widened model's output is from the small one's on random inputs (relative RMS): with
    GroupNorm replaced by its per-channel affine part, where widening must be exact (the channel maps), and as is."""
    from unets import CANDIDATES, build
    torch.manual_seed(0)
    small = build(*CANDIDATES["inpaint-48"]).eval()
    with torch.no_grad():
        for p in small.parameters():   # trained-looking weights: give the zero-initialised output layers values
            if p.dim() >= 2 and float(p.abs().max()) == 0:
                torch.nn.init.normal_(p, std=0.02)
    x, t = torch.randn(2, 9, 32, 32), torch.tensor([10, 700])
    group_norm = torch.nn.GroupNorm.forward
    affine = lambda m, h: h * m.weight.view(1, -1, *[1] * (h.dim() - 2)) + m.bias.view(1, -1, *[1] * (h.dim() - 2))
    for name in ("inpaint-192",):
        wide = build(*CANDIDATES[name]).eval()
        widen(small, wide)
        for label, forward in (("GroupNorm as affine", affine), ("GroupNorm", group_norm)):
            torch.nn.GroupNorm.forward = forward
            with torch.no_grad():
                a, b = small(x, t).sample, wide(x, t).sample
            print(f"{name}, {label}: relative RMS difference {float((a - b).norm() / a.norm()):.2e}")
        torch.nn.GroupNorm.forward = group_norm


if __name__ == "__main__":
    check()
