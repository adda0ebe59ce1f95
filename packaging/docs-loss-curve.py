#!/usr/bin/env python3
"""Draws a training loss log (svgear train's loss.tsv) as an SVG line chart, log-scale loss, with the
learning rate (dashed, linear scale, right axis) so warm-ups and cool-downs show.

    python3 packaging/docs-loss-curve.py docs/training/shapes-s-loss.tsv docs/training/shapes-s-loss.svg

Standard library only (the docs build needs nothing installed)."""
import math
import sys

rows = [line.split("\t") for line in open(sys.argv[1]).read().splitlines()[1:] if line.strip()]
steps = [int(r[0]) for r in rows]
losses = [float(r[1]) for r in rows]
rates = [float(r[2]) for r in rows]
W, H, L, R, T, B = 640, 320, 60, 60, 20, 40
lo = 10 ** math.floor(math.log10(min(losses)))
hi = 10 ** math.ceil(math.log10(max(losses)))
x = lambda s: L + (W - L - R) * s / max(steps)
y = lambda v: T + (H - T - B) * (math.log10(hi) - math.log10(v)) / (math.log10(hi) - math.log10(lo))
out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" font-family="sans-serif" font-size="11">',
       f'<rect width="{W}" height="{H}" fill="white"/>']
decade = lo
while decade <= hi * 1.001:
    for m in (1, 2, 5):
        v = decade * m
        if lo <= v <= hi:
            out.append(f'<line x1="{L}" x2="{W - R}" y1="{y(v):.1f}" y2="{y(v):.1f}" stroke="#ddd"/>')
            out.append(f'<text x="{L - 6}" y="{y(v) + 4:.1f}" text-anchor="end">{v:g}</text>')
    decade *= 10
tick = 10 ** math.floor(math.log10(max(steps)))
tick = tick // 2 if max(steps) / tick < 4 else tick
for s in range(0, max(steps) + 1, tick):
    out.append(f'<line x1="{x(s):.1f}" x2="{x(s):.1f}" y1="{T}" y2="{H - B}" stroke="#eee"/>')
    out.append(f'<text x="{x(s):.1f}" y="{H - B + 16}" text-anchor="middle">{s}</text>')
points = " ".join(f"{x(s):.1f},{y(v):.1f}" for s, v in zip(steps, losses))
out.append(f'<polyline points="{points}" fill="none" stroke="#1f77b4" stroke-width="2"/>')
top_rate = max(rates)
y_rate = lambda r: T + (H - T - B) * (1 - r / top_rate)
points = " ".join(f"{x(s):.1f},{y_rate(r):.1f}" for s, r in zip(steps, rates))
out.append(f'<polyline points="{points}" fill="none" stroke="#888" stroke-width="1" stroke-dasharray="4 3"/>')
for r in (0, top_rate / 2, top_rate):
    out.append(f'<text x="{W - R + 6}" y="{y_rate(r) + 4:.1f}" fill="#666">{r:.2g}</text>')
out.append(f'<text x="{W - 10}" y="{(T + H - B) / 2}" transform="rotate(90 {W - 10} {(T + H - B) / 2})" '
           'text-anchor="middle" fill="#666">learning rate (dashed)</text>')
out.append(f'<text x="{(L + W - R) / 2}" y="{H - 6}" text-anchor="middle">optimiser step</text>')
out.append(f'<text x="14" y="{(T + H - B) / 2}" transform="rotate(-90 14 {(T + H - B) / 2})" '
           'text-anchor="middle">loss (mean per log line)</text>')
out.append("</svg>")
open(sys.argv[2], "w").write("\n".join(out) + "\n")
