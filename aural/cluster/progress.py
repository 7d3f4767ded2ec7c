"""Progress of a batch run: files done, hours of audio done and throughput."""

from __future__ import annotations

import time
from typing import Any


class Progress:
    """Counts finished files and their audio; :meth:`line` says where the run stands."""

    def __init__(self, total_files: int) -> None:
        self.total_files = total_files
        self.files = 0
        self.audio_seconds = 0.0
        self.started = time.monotonic()

    def add(self, report: dict[str, Any]) -> None:
        """Count one finished file (a failed one counts as done, with no audio)."""
        self.files += 1
        if not report.get("error"):
            self.audio_seconds += float(report.get("duration_seconds") or 0.0)

    def line(self) -> str:
        """``[3/20 files, 0.05 h of audio, 12.3x real time, 4.1 files/min]``."""
        wall = max(time.monotonic() - self.started, 1e-9)
        return (f"[{self.files}/{self.total_files} files, {self.audio_seconds / 3600:.2f} h of "
                f"audio, {self.audio_seconds / wall:.1f}x real time, "
                f"{60.0 * self.files / wall:.1f} files/min]")
