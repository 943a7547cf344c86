#!/usr/bin/env python3
#===- report_browser.py - the HTML report in a real browser -*- python -*-===#
"""`gradc train --report DIR` on synthetic data, checked in Debian's
headless chromium.

The run (a CNN, 3 epochs, a validation split) writes DIR/index.html,
DIR/loss.svg and DIR/accuracy.svg. The page must be self-contained (no
script, no http(s) reference), show the numbers the run wrote to
--metrics-json (test accuracy per epoch), and have the loss, accuracy and
learning-rate charts with non-empty paths, the confusion matrix, the
first conv layer's filters and the feature maps. Every embedded PNG must
decode (checked here with zlib, as a browser would). chromium renders the
page from file:// (--dump-dom must show the same charts) with no console
error, and a screenshot of it is not blank (many distinct colours).

`gradc report MODEL --weights CKPT -o DIR` writes the same test figures
from the run's checkpoint.

Usage: report_browser.py GRADC TMPDIR [SCREENSHOT_COPY]
"""

import base64
import os
import re
import shutil
import struct
import subprocess
import sys
import zlib

sys.dont_write_bytecode = True  # keep the source tree clean
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import e2e_common as c  # noqa: E402


def decode_png(data):
    """(width, height, distinct grey/RGB values) of an 8-bit PNG."""
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError("no PNG signature")
    i, idat, width, height, colour = 8, b"", 0, 0, 0
    while i < len(data):
        length, kind = struct.unpack(">I4s", data[i:i + 8])
        body = data[i + 8:i + 8 + length]
        crc = struct.unpack(">I", data[i + 8 + length:i + 12 + length])[0]
        if zlib.crc32(kind + body) & 0xffffffff != crc:
            raise ValueError("bad CRC in %s" % kind)
        if kind == b"IHDR":
            width, height, depth, colour = struct.unpack(">IIBB", body[:10])
            if depth != 8:
                raise ValueError("depth %d" % depth)
        elif kind == b"IDAT":
            idat += body
        i += 12 + length
    channels = {0: 1, 2: 3, 6: 4}[colour]
    raw = zlib.decompress(idat)
    stride = width * channels
    if len(raw) != height * (stride + 1):
        raise ValueError("%d bytes for %dx%d" % (len(raw), width, height))
    return width, height, raw


def distinct_colours(png_path):
    """Distinct pixel values of a chromium screenshot (filters undone)."""
    data = open(png_path, "rb").read()
    width, height, raw = decode_png(data)
    colour = data[25]
    bpp = {0: 1, 2: 3, 6: 4}[colour]
    stride = width * bpp
    prev = bytearray(stride)
    seen = set()
    for y in range(height):
        f = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for x in range(stride):
            a = line[x - bpp] if x >= bpp else 0
            b = prev[x]
            cc = prev[x - bpp] if x >= bpp else 0
            if f == 1:
                line[x] = (line[x] + a) & 255
            elif f == 2:
                line[x] = (line[x] + b) & 255
            elif f == 3:
                line[x] = (line[x] + (a + b) // 2) & 255
            elif f == 4:
                p = a + b - cc
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - cc)
                pred = a if pa <= pb and pa <= pc else b if pb <= pc else cc
                line[x] = (line[x] + pred) & 255
        if y % 4 == 0:
            for x in range(0, stride, bpp * 4):
                seen.add(bytes(line[x:x + 3]))
        prev = line
    return len(seen)


def main():
    gradc, tmp = sys.argv[1], sys.argv[2]
    shutil.rmtree(tmp, ignore_errors=True)
    os.makedirs(tmp)
    ck = c.Checker()
    data = c.make_dataset(os.path.join(tmp, "data"))
    model = c.write_model(os.path.join(tmp, "model.pbtxt"), c.CNN_LAYERS,
                          name="report_cnn", epochs=3,
                          training="validation_split: 0.2 ")
    report = os.path.join(tmp, "report")
    metrics = os.path.join(tmp, "m.json")
    ckpt = os.path.join(tmp, "model.ckpt")
    code, out, err = c.run([gradc, "train", model, "--data", data,
                            "--threads", "2", "--opt-level", "0",
                            "--report", report, "--metrics-json", metrics,
                            "--checkpoint", ckpt])
    if not ck.check(code == 0, "gradc train --report exited %d" % code,
                    out + err):
        ck.finish()
    index = os.path.join(report, "index.html")
    for name in ("index.html", "loss.svg", "accuracy.svg"):
        ck.check(os.path.exists(os.path.join(report, name)), "no " + name)
    html = open(index).read()
    ck.check("<script" not in html.lower(), "the page has a script")
    ck.check(not re.search(r"(src|href)=\"(https?:)?//", html),
             "the page references the network")
    for row in c.read_metrics(metrics):
        ck.check("%.2f%%" % (100 * row["test_accuracy"]) in html,
                 "epoch %d's test accuracy %.2f%% is not on the page"
                 % (row["epoch"], 100 * row["test_accuracy"]))
    for chart in ("loss", "accuracy", "learning-rate", "confusion"):
        ck.check(re.search(r'<svg[^>]*id="%s"' % chart, html),
                 "no %s chart" % chart)
    paths = re.findall(r'<path d="(M[^"]*)"', html)
    ck.check(len(paths) >= 5 and all(len(p) > 10 for p in paths),
             "chart paths: %s" % [p[:20] for p in paths])
    pngs = re.findall(r'src="data:image/png;base64,([^"]+)"', html)
    ck.check(len(pngs) >= 16, "only %d embedded images" % len(pngs))
    for k, b64 in enumerate(pngs):
        try:
            decode_png(base64.b64decode(b64))
        except Exception as e:  # noqa: BLE001
            ck.check(False, "image %d does not decode: %s" % (k, e))
    for section in ("Filters of conv1", "Feature maps", "Model summary",
                    "Most confidently misclassified", "--report"):
        ck.check(section in html, "no '%s' on the page" % section)

    # gradc report: the same test figures from the checkpoint alone.
    report2 = os.path.join(tmp, "report2")
    code, out2, err2 = c.run([gradc, "report", model, "--weights", ckpt,
                              "--data", data, "--opt-level", "0", "-o",
                              report2])
    ck.check(code == 0, "gradc report exited %d" % code, out2 + err2)
    if code == 0:
        html2 = open(os.path.join(report2, "index.html")).read()
        last = c.read_metrics(metrics)[-1]
        ck.check("Test accuracy: %.2f%%" % (100 * last["test_accuracy"])
                 in html2, "gradc report shows another test accuracy")
        ck.check('id="confusion"' in html2 and "Feature maps" in html2,
                 "gradc report lacks the confusion matrix or feature maps")

    chromium = shutil.which("chromium")
    if not ck.check(chromium is not None, "chromium is not installed"):
        ck.finish()
    base = [chromium, "--headless", "--no-sandbox", "--disable-gpu",
            "--user-data-dir=" + os.path.join(tmp, "profile"),
            "--enable-logging=stderr", "--v=0"]
    url = "file://" + os.path.abspath(index)
    dom = subprocess.run(base + ["--dump-dom", url], capture_output=True,
                         text=True, timeout=120)
    ck.check(dom.returncode == 0, "chromium --dump-dom exited %d"
             % dom.returncode, dom.stderr[-2000:])
    for chart in ("loss", "accuracy", "confusion"):
        ck.check(re.search(r'<svg[^>]*id="%s"' % chart, dom.stdout),
                 "the rendered DOM has no %s chart" % chart)
    console = [l for l in dom.stderr.splitlines() if "CONSOLE" in l]
    ck.check(not console, "console messages: %s" % console)
    shot = os.path.join(tmp, "report.png")
    r = subprocess.run(base + ["--screenshot=" + shot,
                               "--window-size=1300,1400", url],
                       capture_output=True, text=True, timeout=120)
    ck.check(r.returncode == 0 and os.path.exists(shot),
             "chromium --screenshot failed", r.stderr[-2000:])
    if os.path.exists(shot):
        colours = distinct_colours(shot)
        ck.check(colours >= 20, "the screenshot has %d colours" % colours)
        if len(sys.argv) > 3:
            shutil.copy(shot, sys.argv[3])
    ck.finish()


if __name__ == "__main__":
    main()
