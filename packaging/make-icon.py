#!/usr/bin/env python3
"""Draws the studio's icon: a block map of sparse attention, as the Routing panel shows one.

Exactly computed blocks are bright (viridis yellow on the diagonal, green and teal beside it),
compensated ones dim, on a dark rounded tile. Writes resources/icons/svgear-studio.svg and PNGs of
16-256 pixels from the same geometry (4x4 supersampled, so the small sizes stay crisp), with no
dependencies beyond the Python standard library. Run from anywhere:

    python3 packaging/make-icon.py
"""
import os
import struct
import zlib

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "resources", "icons")
SIZES = (16, 32, 48, 64, 128, 256)

# Geometry in a 256-unit square.
TILE = (8, 8, 240, 240, 48)  # x, y, width, height, corner radius
BACKGROUND = (0x1E, 0x1F, 0x2A)
GRID = 4
CELL_ORIGIN, CELL_STEP, CELL_SIZE, CELL_RADIUS = 36, 48, 40, 8
# Block map: 3 = diagonal (yellow), 2 = next to it (green), 1 = routed far off (teal), 0 = compensated.
MAP = ((3, 2, 0, 0),
       (2, 3, 2, 0),
       (0, 1, 3, 2),
       (1, 0, 2, 3))
COLOURS = {3: (0xFD, 0xE7, 0x25), 2: (0x5E, 0xC9, 0x62), 1: (0x21, 0x91, 0x8C), 0: (0x3B, 0x3F, 0x6B)}


def shapes():
    """(x, y, w, h, r, rgb) from back to front."""
    yield (*TILE, BACKGROUND)
    for row in range(GRID):
        for col in range(GRID):
            x = CELL_ORIGIN + col * CELL_STEP
            y = CELL_ORIGIN + row * CELL_STEP
            yield (x, y, CELL_SIZE, CELL_SIZE, CELL_RADIUS, COLOURS[MAP[row][col]])


def inside(px, py, x, y, w, h, r):
    if px < x or py < y or px >= x + w or py >= y + h:
        return False
    cx = min(max(px, x + r), x + w - r)
    cy = min(max(py, y + r), y + h - r)
    return (px - cx) ** 2 + (py - cy) ** 2 <= r * r


def render(size, supersample=4):
    n = size * supersample
    scale = 256.0 / n
    items = list(shapes())
    pixels = bytearray(size * size * 4)
    for y in range(size):
        for x in range(size):
            acc = [0.0, 0.0, 0.0, 0.0]
            for sy in range(supersample):
                for sx in range(supersample):
                    px = (x * supersample + sx + 0.5) * scale
                    py = (y * supersample + sy + 0.5) * scale
                    colour = None
                    for (bx, by, bw, bh, br, rgb) in items:
                        if inside(px, py, bx, by, bw, bh, br):
                            colour = rgb
                    if colour is not None:
                        acc[0] += colour[0]
                        acc[1] += colour[1]
                        acc[2] += colour[2]
                        acc[3] += 255
            samples = supersample * supersample
            alpha = acc[3] / samples
            i = (y * size + x) * 4
            if alpha > 0:  # colour unpremultiplied by the covered samples
                covered = acc[3] / 255
                pixels[i:i + 3] = bytes(round(c / covered) for c in acc[:3])
            pixels[i + 3] = round(alpha)
    return pixels


def write_png(path, size, rgba):
    rows = b"".join(b"\x00" + bytes(rgba[y * size * 4:(y + 1) * size * 4]) for y in range(size))

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n")
        f.write(chunk(b"IHDR", struct.pack(">IIBBBBB", size, size, 8, 6, 0, 0, 0)))
        f.write(chunk(b"IDAT", zlib.compress(rows, 9)))
        f.write(chunk(b"IEND", b""))


def write_svg(path):
    parts = ['<svg xmlns="http://www.w3.org/2000/svg" width="256" height="256" viewBox="0 0 256 256">']
    for (x, y, w, h, r, rgb) in shapes():
        parts.append(f'  <rect x="{x}" y="{y}" width="{w}" height="{h}" rx="{r}" fill="#{rgb[0]:02x}{rgb[1]:02x}{rgb[2]:02x}"/>')
    parts.append("</svg>\n")
    with open(path, "w") as f:
        f.write("\n".join(parts))


def main():
    os.makedirs(OUT, exist_ok=True)
    write_svg(os.path.join(OUT, "svgear-studio.svg"))
    for size in SIZES:
        write_png(os.path.join(OUT, f"svgear-studio-{size}.png"), size, render(size))


if __name__ == "__main__":
    main()
