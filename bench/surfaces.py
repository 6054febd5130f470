"""Contour grids: 256 × 256 values of every built-in surface, one vectorized call each."""

from __future__ import annotations

from deepscope.engine import surfaces

from .common import Row, median_ms


def rows(quick: bool = False) -> list[Row]:
    resolution = 64 if quick else 256
    times = {}
    for name in surfaces.SURFACE_SPECS:
        s = surfaces.build(name)
        times[name] = median_ms(lambda s=s: s.grid(resolution), repeat=3 if quick else 9)
    worst = max(times, key=lambda k: times[k])
    two_d = [v for k, v in times.items() if surfaces.SURFACE_SPECS[k].dims == 2]
    median = sorted(two_d)[len(two_d) // 2]
    return [
        Row(
            f"Contour grid {resolution} × {resolution}, each of {len(two_d)} 2-D surfaces",
            f"median {median:.2f} ms, slowest {times[worst]:.2f} ms ({worst})",
            "—",
            "—",
            "one vectorized call",
            True,
        )
    ]
