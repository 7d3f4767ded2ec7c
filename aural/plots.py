"""Report pictures drawn from signals: loudness over time, and a waveform close-up."""

from __future__ import annotations

from pathlib import Path

import numpy as np


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def plot_loudness_contours(path: Path, signals: dict[str, np.ndarray], rate: int, *, title: str,
                           target_lufs: float | None = None) -> None:
    """Short-term loudness (BS.1770, 3 s window, every 100 ms) of each signal, one line each."""
    from aural.dsp.loudness import short_term_loudness

    plt = _pyplot()
    fig, axis = plt.subplots(figsize=(10, 3))
    for label, signal in signals.items():
        contour = short_term_loudness(np.asarray(signal)[np.newaxis], rate)
        axis.plot(np.arange(len(contour)) * 0.1, contour, label=label)
    if target_lufs is not None:
        axis.axhline(target_lufs, color="grey", linestyle=":", label=f"target {target_lufs:g} LUFS")
    axis.set_xlabel("seconds")
    axis.set_ylabel("short-term loudness (LUFS)")
    axis.set_ylim(-60, 0)
    axis.legend(fontsize=8)
    axis.set_title(f"{title}: loudness over time (3 s window)", fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)


def plot_clipped_peak(path: Path, clipped: np.ndarray, signals: dict[str, np.ndarray], rate: int,
                      *, title: str, milliseconds: float = 12.0) -> None:
    """The waveforms around the longest flat top of ``clipped`` (the damaged input)."""
    from aural.baselines.dynamics import clipped_mask

    mask = clipped_mask(np.asarray(clipped))
    if mask.any():
        edges = np.flatnonzero(np.diff(np.concatenate([[0], mask.astype(int), [0]])))
        starts, stops = edges[::2], edges[1::2]
        longest = int(np.argmax(stops - starts))
        centre = (starts[longest] + stops[longest]) // 2
    else:
        centre = int(np.argmax(np.abs(clipped)))
    half = int(milliseconds / 2000 * rate)
    window = slice(max(centre - half, 0), centre + half)
    plt = _pyplot()
    fig, axis = plt.subplots(figsize=(10, 3))
    for label, signal in signals.items():
        piece = np.asarray(signal)[window]
        axis.plot((np.arange(len(piece)) + window.start) / rate * 1000, piece, label=label,
                  linewidth=1.0)
    axis.set_xlabel("milliseconds")
    axis.set_ylabel("amplitude")
    axis.legend(fontsize=8)
    axis.set_title(f"{title}: around the longest clipped run", fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)
