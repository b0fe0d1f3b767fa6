#!/usr/bin/env python3
"""Render `tmux capture-pane -e -p` output (text with ANSI SGR colours) to a PNG.

usage: render.py INPUT.ansi OUTPUT.png [--cols N]
Needs Pillow and a monospace font (DejaVu Sans Mono, Debian package fonts-dejavu-core).
"""
import re
import sys
import unicodedata

from PIL import Image, ImageDraw, ImageFont

FONT_DIR = "/usr/share/fonts/truetype/dejavu/"
SIZE = 16
BG = (24, 26, 33)
FG = (214, 218, 224)
# The 16 basic colours (a muted xterm-like palette).
PALETTE = [
    (40, 42, 54), (232, 90, 90), (120, 200, 110), (230, 190, 80),
    (100, 150, 240), (200, 120, 220), (90, 200, 210), (200, 204, 210),
    (110, 115, 130), (255, 120, 120), (150, 230, 140), (255, 215, 110),
    (140, 180, 255), (225, 150, 240), (130, 225, 235), (245, 245, 245),
]


def xterm256(n):
    if n < 16:
        return PALETTE[n]
    if n < 232:
        n -= 16
        steps = [0, 95, 135, 175, 215, 255]
        return (steps[n // 36], steps[(n // 6) % 6], steps[n % 6])
    v = 8 + (n - 232) * 10
    return (v, v, v)


class Style:
    def __init__(self):
        self.reset()

    def reset(self):
        self.fg = None
        self.bg = None
        self.bold = False
        self.dim = False
        self.reverse = False

    def apply(self, params):
        codes = [int(p) if p else 0 for p in params.split(";")] if params else [0]
        i = 0
        while i < len(codes):
            c = codes[i]
            if c == 0:
                self.reset()
            elif c == 1:
                self.bold = True
            elif c == 2:
                self.dim = True
            elif c == 22:
                self.bold = self.dim = False
            elif c == 7:
                self.reverse = True
            elif c == 27:
                self.reverse = False
            elif 30 <= c <= 37:
                self.fg = PALETTE[c - 30]
            elif 90 <= c <= 97:
                self.fg = PALETTE[c - 90 + 8]
            elif c == 39:
                self.fg = None
            elif 40 <= c <= 47:
                self.bg = PALETTE[c - 40]
            elif 100 <= c <= 107:
                self.bg = PALETTE[c - 100 + 8]
            elif c == 49:
                self.bg = None
            elif c in (38, 48) and i + 1 < len(codes):
                if codes[i + 1] == 5 and i + 2 < len(codes):
                    col = xterm256(codes[i + 2])
                    i += 2
                elif codes[i + 1] == 2 and i + 4 < len(codes):
                    col = tuple(codes[i + 2:i + 5])
                    i += 4
                else:
                    col = None
                if c == 38:
                    self.fg = col
                else:
                    self.bg = col
            i += 1

    def colours(self):
        fg = self.fg or FG
        bg = self.bg or BG
        if self.reverse:
            fg, bg = bg, fg
        if self.dim and not self.reverse:
            fg = tuple((a + b) // 2 for a, b in zip(fg, BG))
        return fg, bg


LEFT = {"█": 8, "▏": 1, "▎": 2, "▍": 3, "▌": 4, "▋": 5, "▊": 6, "▉": 7}
LOWER = {"▁": 1, "▂": 2, "▃": 3, "▄": 4, "▅": 5, "▆": 6, "▇": 7}
BLOCKS = set(LEFT) | set(LOWER)
SGR = re.compile(r"\x1b\[([0-9;]*)m")
OTHER_ESC = re.compile(r"\x1b[\[\]()][0-9;?]*[A-Za-z]?")


def parse(text):
    """Lines of (char, fg, bg, bold) cells."""
    style = Style()
    rows = []
    for line in text.split("\n"):
        cells = []
        pos = 0
        while pos < len(line):
            m = SGR.match(line, pos)
            if m:
                style.apply(m.group(1))
                pos = m.end()
                continue
            m = OTHER_ESC.match(line, pos)
            if m and line[pos] == "\x1b":
                pos = m.end()
                continue
            ch = line[pos]
            fg, bg = style.colours()
            cells.append((ch, fg, bg, style.bold))
            if unicodedata.east_asian_width(ch) in ("W", "F"):
                cells.append(("", fg, bg, style.bold))
            pos += 1
        rows.append(cells)
    while rows and not rows[-1]:
        rows.pop()
    return rows


def render(rows, out, cols=None):
    regular = ImageFont.truetype(FONT_DIR + "DejaVuSansMono.ttf", SIZE)
    bold = ImageFont.truetype(FONT_DIR + "DejaVuSansMono-Bold.ttf", SIZE)
    cw = round(regular.getlength("M"))
    ch = round(SIZE * 1.25)
    cols = cols or max(len(r) for r in rows)
    pad = 12
    img = Image.new("RGB", (cols * cw + 2 * pad, len(rows) * ch + 2 * pad), BG)
    d = ImageDraw.Draw(img)
    for y, row in enumerate(rows):
        for x, (c, fg, bg, b) in enumerate(row):
            px, py = pad + x * cw, pad + y * ch
            if bg != BG:
                d.rectangle([px, py, px + cw - 1, py + ch - 1], fill=bg)
            if not c or c == " ":
                continue
            if c in "│─╭╮╰╯┌┐└┘├┤":
                draw_box(d, c, px, py, cw, ch, fg)
            elif c in BLOCKS:
                # Bars: a small gap above and below, so rows of bars stay apart.
                top, bot = py + 3, py + ch - 4
                if c in LEFT:
                    w = max(1, cw * LEFT[c] // 8)
                    d.rectangle([px, top, px + w - 1, bot], fill=fg)
                else:
                    h = max(1, ch * LOWER[c] // 8)
                    d.rectangle([px, py + ch - h, px + cw - 1, py + ch - 1], fill=fg)
            else:
                d.text((px, py + 1), c, font=bold if b else regular, fill=fg)
    img.save(out)


def draw_box(d, c, px, py, cw, ch, fg):
    """Box lines drawn as lines, so they join across cells whatever the font."""
    mx, my = px + cw // 2, py + ch // 2
    right, bottom = px + cw - 1, py + ch - 1
    up = c in "│╰╯└┘├┤"
    down = c in "│╭╮┌┐├┤"
    left = c in "─╮╯┐┘┤"
    rgt = c in "─╭╰┌└├"
    if up:
        d.line([mx, py, mx, my], fill=fg)
    if down:
        d.line([mx, my, mx, bottom], fill=fg)
    if left:
        d.line([px, my, mx, my], fill=fg)
    if rgt:
        d.line([mx, my, right, my], fill=fg)


def main():
    args = sys.argv[1:]
    cols = None
    if "--cols" in args:
        i = args.index("--cols")
        cols = int(args[i + 1])
        del args[i:i + 2]
    src, out = args
    with open(src, encoding="utf-8") as f:
        rows = parse(f.read())
    render(rows, out, cols)


if __name__ == "__main__":
    main()
