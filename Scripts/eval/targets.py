"""Issue 16's acceptance targets on the figures of quality.py (its --json summary, or one image's row of it), as
relative shortfalls: 0 when met, (T − x) / T under a threshold T, the distance to the detail range over its nearer end.
Scripts/train/ship.py ranks models by them (with the first stage's PSNR added); compare.py prints them."""

DETAIL_RANGE = (0.6, 1.3)   # the ground truth's high-frequency energy is 1; interpolators reach ~0.14
SR_Y_PSNR_MARGIN = 1.5      # Y-PSNR ≥ bicubic − 1.5 dB
SR_LR_PSNR = 32.0           # LR-consistency ≥ 32 dB
INPAINT_MARGIN = 1.0        # hole PSNR ≥ Telea − 1 dB


def at_least(x, threshold):
    return max(0.0, threshold - x) / threshold


def within(detail, low=DETAIL_RANGE[0], high=DETAIL_RANGE[1]):
    return max(0.0, low - detail) / low + max(0.0, detail - high) / high


def named_shortfalls(task, s):
    """[(target name, relative shortfall)] of one task's figures in a quality.py summary `s`."""
    if task in ("sr", "upscale"):
        u = s["upscale"]
        return [("Y-PSNR", at_least(u["y_psnr"], u["bicubic_y_psnr"] - SR_Y_PSNR_MARGIN)),
                ("LR-consistency", at_least(u["lr_psnr"], SR_LR_PSNR)), ("detail", within(u["detail"]))]
    return [(f"{kind} {name}", f) for kind in ("centre", "strokes") for name, f in
            (("hole PSNR", at_least(s[f"inpaint_{kind}"]["psnr"], s[f"inpaint_{kind}"]["telea_psnr"] - INPAINT_MARGIN)),
             ("detail", within(s[f"inpaint_{kind}"]["detail"])))]


def shortfalls(task, s):
    return [f for _, f in named_shortfalls(task, s)]
