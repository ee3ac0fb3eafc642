"""Unit tests of compare.py and targets.py (stdlib only; Scripts/test.sh runs them):
python3 -m unittest discover -s Scripts/eval -p 'test_*.py'"""
import contextlib
import io
import json
import math
import os
import tempfile
import unittest
from unittest import mock

import compare
import targets


def summary(centre, strokes, telea=(14.97, 18.17), details=(0.64, 0.542)):
    """A quality.py --json summary of 2 images whose per-image hole PSNRs are `centre` and `strokes` (pairs)."""
    images = [{"task": "inpaint", "image": f"im{i}.png", "mask": kind, "psnr": p, "detail": d, "seam": 1.0}
              for kind, ps, d in (("centre", centre, details[0]), ("strokes", strokes, details[1])) for i, p in enumerate(ps)]
    return {"inpaint_centre": {"psnr": sum(centre) / 2, "telea_psnr": telea[0], "detail": details[0]},
            "inpaint_strokes": {"psnr": sum(strokes) / 2, "telea_psnr": telea[1], "detail": details[1]}, "images": images}


class PairedTests(unittest.TestCase):
    def test_matches_the_textbook_paired_t_interval(self):
        # d = 1, 2, 3, 4: mean 2.5, sd √(5/3), SE sd/2, t(3) = 3.182.
        mean, se, half, wins = compare.paired([0, 0, 0, 0], [1, 2, 3, 4])
        self.assertAlmostEqual(mean, 2.5)
        self.assertAlmostEqual(se, math.sqrt(5 / 3) / 2)
        self.assertAlmostEqual(half, 3.182 * math.sqrt(5 / 3) / 2)
        self.assertEqual(wins, 4)

    def test_a_constant_shift_has_no_spread(self):
        mean, se, half, wins = compare.paired([10.0, 20.0, 15.0], [10.5, 20.5, 15.5])
        self.assertAlmostEqual(mean, 0.5)
        self.assertAlmostEqual(se, 0.0)
        self.assertEqual(wins, 3)

    def test_falls_back_to_the_normal_quantile_past_the_table(self):
        a, b = [0.0] * 40, [float(i % 2) for i in range(40)]
        _, se, half, _ = compare.paired(a, b)
        self.assertAlmostEqual(half, 1.96 * se)


class TargetTests(unittest.TestCase):
    def test_the_kept_models_figures_meet_two_targets(self):
        named = targets.named_shortfalls("inpaint", summary([13.0, 13.092], [17.2, 17.332]))
        self.assertEqual([n for n, f in named if f == 0], ["centre detail", "strokes hole PSNR"])
        self.assertAlmostEqual(sum(f for _, f in named), (13.97 - 13.046) / 13.97 + (0.6 - 0.542) / 0.6)

    def test_detail_above_the_range_falls_short_too(self):
        self.assertAlmostEqual(targets.within(1.43), 0.1)
        self.assertEqual(targets.within(1.0), 0.0)


class CommandTests(unittest.TestCase):
    def run_compare(self, a, b):
        with tempfile.TemporaryDirectory() as d:
            paths = []
            for name, s in (("a.json", a), ("b.json", b)):
                paths.append(os.path.join(d, name))
                with open(paths[-1], "w") as f:
                    json.dump(s, f)
            out = io.StringIO()
            with mock.patch("sys.argv", ["compare.py"] + paths), contextlib.redirect_stdout(out):
                compare.main()
            return out.getvalue()

    def test_prints_the_paired_difference_per_mask(self):
        out = self.run_compare(summary([13.0, 14.0], [17.0, 18.0]), summary([13.5, 14.1], [16.0, 17.0]))
        self.assertIn("| inpaint | centre | psnr | 13.500 | 13.800 | +0.300 | 0.200 |", out)
        self.assertIn("| inpaint | strokes | psnr | 17.500 | 16.500 | -1.000 | 0.000 |", out)
        self.assertIn("B, inpaint: 1 of 4 targets met", out)

    def test_refuses_runs_on_other_images(self):
        b = summary([13.5, 14.1], [16.0, 17.0])
        b["images"][0]["image"] = "other.png"
        with self.assertRaises(SystemExit) as e:
            self.run_compare(summary([13.0, 14.0], [17.0, 18.0]), b)
        self.assertIn("not measured on the same images", str(e.exception.code))
        self.assertIn("other.png", str(e.exception.code))

    def test_refuses_a_summary_without_per_image_figures(self):
        a = summary([13.0, 14.0], [17.0, 18.0])
        del a["images"]
        with self.assertRaises(SystemExit) as e:
            self.run_compare(a, a)
        self.assertIn("no per-image figures", str(e.exception.code))


if __name__ == "__main__":
    unittest.main()
