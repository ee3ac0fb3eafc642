#!/usr/bin/env python3
"""The page in a real browser: headless Chromium (Debian's chromium + chromium-driver) driven by Selenium.

Opens the page `ldm-edit serve` prints, opens a photo through the file picker, paints a stroke with mouse
events on the mask canvas, runs inpainting with the model the page chooses by default (the bundled one once
it exists, else the first under --models), waits for the result, and checks against the files the server
keeps: undo/redo, invert and zoom act on the mask as they should; every pixel the stroke did not paint (mask below half white) equals the source exactly, some pixels under it changed, the
stroke lies where the mouse went, and the result carries its provenance. Any failure exits 1 with the reason.

    python Scripts/ui/browser_test.py --binary .build/release/ldm-edit \
        --models Tests/LDMModelsTests/Fixtures/models [--screenshot docs/images/ui.png]
"""
import argparse
import io
import json
import os
import sys
import time
import zlib

from PIL import Image
from selenium import webdriver
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select, WebDriverWait

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from server import Server  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def fail(message):
    print(f"browser test FAILED: {message}", file=sys.stderr)
    sys.exit(1)


def provenance(png_bytes):
    """The JSON of the PNG's 'ldm-edit' iTXt or tEXt chunk, or None."""
    at = 8
    while at + 8 <= len(png_bytes):
        length = int.from_bytes(png_bytes[at:at + 4], "big")
        kind = png_bytes[at + 4:at + 8]
        data = png_bytes[at + 8:at + 8 + length]
        if kind in (b"iTXt", b"tEXt", b"zTXt") and data.startswith(b"ldm-edit\x00"):
            rest = data[len(b"ldm-edit\x00"):]
            if kind == b"tEXt":
                return json.loads(rest)
            if kind == b"zTXt":
                return json.loads(zlib.decompress(rest[1:]))
            compressed = rest[0] == 1
            rest = rest[2:]
            rest = rest[rest.index(b"\x00") + 1:]  # language tag
            rest = rest[rest.index(b"\x00") + 1:]  # translated keyword
            return json.loads(zlib.decompress(rest) if compressed else rest)
        at += 12 + length
    return None


def check_noise_level_control(driver):
    """The x4 upscaler's noise level on the page: shown with the model's range and default (and its own guidance) when
    it is chosen, hidden for an upscaler without one. Returns what was seen, or '' when the models folder has no x4."""
    Select(driver.find_element(By.ID, "task")).select_by_value("upscale")
    if driver.find_element(By.ID, "hole-limit").is_displayed():
        fail("the hole limit stays shown for upscaling")
    if driver.find_element(By.ID, "candidates").is_displayed():
        fail("the candidates stay shown for upscaling")
    names = [o.text for o in Select(driver.find_element(By.ID, "model")).options]
    if "sd_upscale_folder" not in names:
        return ""
    Select(driver.find_element(By.ID, "model")).select_by_visible_text("sd_upscale_folder")
    field = driver.find_element(By.ID, "noise-level")
    seen = (field.is_displayed(), field.get_attribute("value"), field.get_attribute("max"),
            driver.find_element(By.ID, "guidance").get_attribute("value"))
    if seen != (True, "20", "350", "9"):
        fail(f"x4 upscaler chosen: noise level (shown, value, max) and guidance are {seen}, expected (True, 20, 350, 9)")
    other = next((n for n in names if n not in ("sd_upscale_folder",) and not n.startswith("Lanczos")), None)
    if other:
        Select(driver.find_element(By.ID, "model")).select_by_visible_text(other)
        if driver.find_element(By.ID, "noise-level").is_displayed():
            fail(f"the noise level stays shown for {other}, which takes none")
    return f"shown for sd_upscale_folder (20 of 0-350, guidance 9), hidden for {other}"


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--binary", default=os.path.join(ROOT, ".build/release/ldm-edit"))
    parser.add_argument("--models", default=os.path.join(ROOT, "Tests/LDMModelsTests/Fixtures/models"))
    parser.add_argument("--image", default=os.path.join(ROOT, "Samples/chelsea.png"))
    parser.add_argument("--steps", type=int, default=4)
    parser.add_argument("--screenshot", help="save a PNG of the page with the result")
    parser.add_argument("--chromedriver", default="/usr/bin/chromedriver")
    parser.add_argument("--chromium", default="/usr/bin/chromium")
    args = parser.parse_args()

    server = Server(args.binary, args.models)
    options = Options()
    options.binary_location = args.chromium
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1360,1300",
                 "--force-device-scale-factor=1"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(args.chromedriver), options=options)
    started = time.time()
    try:
        driver.get(server.url)
        wait = WebDriverWait(driver, 60)
        wait.until(lambda d: d.execute_script("return document.body.dataset.ready") == "true")
        if "token=" in driver.current_url:
            fail("the token stayed in the address bar")
        model = driver.execute_script("const s = document.getElementById('model'); return s.options[s.selectedIndex].text")

        driver.find_element(By.ID, "file-input").send_keys(os.path.abspath(args.image))
        wait.until(lambda d: d.execute_script(
            "return document.body.dataset.image !== '' && document.getElementById('source').naturalWidth > 0"))
        steps = driver.find_element(By.ID, "steps")
        steps.clear()
        steps.send_keys(str(args.steps))
        driver.find_element(By.ID, "seed-random").click()  # fixed seed
        # Coarse-to-fine for holes wider than 16 pixels: the 32-pixel stroke below takes two passes.
        if not driver.find_element(By.ID, "hole-limit").is_displayed():
            fail(f"the hole limit is hidden for {model}, an LDM inpainting model")
        driver.find_element(By.ID, "hole-limit").send_keys("16")
        # The candidates control shows the chosen model's own default (ldm-edit's own models: 8, blended).
        chosen = driver.execute_script("return document.getElementById('model').value")
        listed = next(m for m in server.request("GET", "/api/models")["models"] if m["id"] == chosen)
        candidates = driver.find_element(By.ID, "candidates")
        blend = driver.find_element(By.ID, "blend-candidates")
        shown = (candidates.get_attribute("value"), blend.is_selected())
        if shown != (str(listed["default_candidates"]), listed["default_blend_candidates"]):
            fail(f"the candidates control shows {shown}, not {model}'s default {listed['default_candidates']}, "
                 f"{listed['default_blend_candidates']}")
        # Two candidates, each previewed, the consensus one finished (blended when the model's default blends).
        candidates.clear()
        candidates.send_keys("2")
        seed = driver.find_element(By.ID, "seed")
        seed.clear()
        seed.send_keys("7")
        if driver.find_element(By.ID, "run").is_enabled():
            fail("Run is enabled before anything is painted")

        # A stroke through the middle of the canvas (offsets from its centre, in CSS pixels).
        canvas = driver.find_element(By.ID, "mask-canvas")
        scale = driver.execute_script(
            "const c = document.getElementById('mask-canvas'); return c.getBoundingClientRect().width / c.width")
        actions = ActionChains(driver, duration=20)
        actions.move_to_element_with_offset(canvas, -80, -20).click_and_hold()
        for i in range(1, 9):
            actions.move_by_offset(20, 5)
        actions.release().perform()
        wait.until(lambda d: d.find_element(By.ID, "run").is_enabled())

        # The mask tools on that stroke: undo/redo, invert (twice), zoom and fit leave the same mask.
        count = "const c = document.getElementById('mask-canvas'); const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;" \
                "let n = 0; for (let i = 3; i < d.length; i += 4) n += d[i] >= 128; return [n, c.width * c.height];"
        painted_before, total = driver.execute_script(count)
        click = lambda element_id: driver.find_element(By.ID, element_id).click()
        click("undo")
        if driver.execute_script(count)[0] != 0 or driver.find_element(By.ID, "run").is_enabled():
            fail("undo did not remove the stroke")
        click("redo")
        if driver.execute_script(count)[0] != painted_before:
            fail("redo did not bring the stroke back")
        # Anti-aliased edge pixels may round across the half-way mark when inverted: 2 % of the stroke allowed.
        slack = max(4, painted_before // 50)
        click("invert")
        if abs(driver.execute_script(count)[0] - (total - painted_before)) > slack:
            fail(f"invert painted {driver.execute_script(count)[0]} pixels, expected {total - painted_before}")
        click("invert")
        scale_of = "return getComputedStyle(document.getElementById('stage')).transform"
        fitted = driver.execute_script(scale_of)
        click("zoom-in")
        if driver.execute_script(scale_of) == fitted:
            fail("zoom did not change the view")
        click("zoom-fit")
        if abs(driver.execute_script(count)[0] - painted_before) > slack or driver.execute_script(scale_of) != fitted:
            fail("invert twice or zoom and fit changed the mask or the view")
        driver.find_element(By.ID, "run").click()
        WebDriverWait(driver, 600).until(
            lambda d: d.execute_script("return document.body.dataset.jobState") in ("done", "failed", "cancelled"))
        state = driver.execute_script("return document.body.dataset.jobState")
        if state != "done":
            fail(f"the job ended {state}: {driver.find_element(By.ID, 'message').text}")
        wait.until(lambda d: d.execute_script(
            "const a = document.getElementById('after'); return a.complete && a.naturalWidth > 0"))
        result_id = driver.execute_script("return document.body.dataset.lastResult")
        mask_id = driver.execute_script("return document.body.dataset.lastMask")
        progress = driver.find_element(By.ID, "progress-text").text
        if args.screenshot:
            driver.execute_script("window.scrollTo(0, 0)")
            driver.save_screenshot(args.screenshot)
            # Keep the committed picture small: 256 colours.
            Image.open(args.screenshot).convert("RGB").quantize(256).save(args.screenshot, optimize=True)

        result_bytes = server.request("GET", f"/api/images/{result_id}/file")
        source = Image.open(args.image).convert("RGB")
        result = Image.open(io.BytesIO(result_bytes)).convert("RGB")
        mask = Image.open(io.BytesIO(server.request("GET", f"/api/images/{mask_id}/file"))).convert("L")
        if result.size != source.size or mask.size != source.size:
            fail(f"sizes differ: source {source.size}, result {result.size}, mask {mask.size}")
        width, height = source.size
        src, out, msk = source.load(), result.load(), mask.load()
        untouched = changed_outside = painted = changed_inside = 0
        xs, ys = [], []
        for y in range(height):
            for x in range(width):
                m = msk[x, y]
                # The server repaints where the mask is at least half white (its anti-aliased edge included).
                if m < 128:
                    untouched += 1
                    changed_outside += src[x, y] != out[x, y]
                else:
                    painted += 1
                    changed_inside += src[x, y] != out[x, y]
                    xs.append(x)
                    ys.append(y)
        if changed_outside:
            fail(f"{changed_outside} of {untouched} pixels outside the stroke differ from the source")
        # The stroke: 160 CSS px long, 32 image px wide, centred on the canvas.
        expected_length = 160 / scale
        if painted < 0.5 * expected_length * 32:
            fail(f"only {painted} pixels painted; expected about {int(expected_length * 32)}")
        if changed_inside == 0:
            fail("no pixel under the stroke changed")
        centre = (sum(xs) / len(xs), sum(ys) / len(ys))
        if abs(centre[0] - width / 2) > 12 / scale + 4 or abs(centre[1] - height / 2) > 12 / scale + 4:
            fail(f"the stroke's centre is at {centre}, not the image's centre ({width / 2}, {height / 2})")
        record = provenance(result_bytes)
        if not record or record.get("seed") != 7 or record.get("steps") != args.steps or record.get("task") != "inpaint":
            fail(f"the result's provenance is missing or wrong: {record}")
        if record.get("options", {}).get("hole_limit") != "16" or "coarse" not in record.get("plan", ""):
            fail(f"the hole limit did not reach the job: options {record.get('options')}, plan {record.get('plan')!r}")
        if record.get("options", {}).get("candidates") != "2" or "of 2 candidates" not in record.get("plan", ""):
            fail(f"the candidates did not reach the job: options {record.get('options')}, plan {record.get('plan')!r}")
        if ("blended with their mean" in record.get("plan", "")) != shown[1]:
            fail(f"the blend box ({shown[1]}) did not reach the job: plan {record.get('plan')!r}")
        if server.request("GET", "/api/queue").get("running") is not None:
            fail("a job is still running")
        noise = check_noise_level_control(driver)
        print(json.dumps({"browser_test": "passed", "model": model, "image": os.path.basename(args.image), "size": [width, height],
                          "painted_pixels": painted, "changed_under_stroke": changed_inside, "untouched_pixels": untouched,
                          "progress": progress, "noise_level_control": noise, "seconds": round(time.time() - started, 1)}))
    finally:
        driver.quit()
        server.stop()
        if not server.alive() and server.process.returncode not in (0, -15, 143):
            print("".join(server.log), file=sys.stderr)


if __name__ == "__main__":
    main()
