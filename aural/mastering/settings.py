"""What mix_and_master aims for: loudness target, true-peak ceiling, EQ target, stem balance."""

from __future__ import annotations

from dataclasses import dataclass

from aural.errors import AuralError

#: Loudness presets (integrated LUFS).
PRESETS = {"podcast": -16.0, "streaming": -14.0, "broadcast": -23.0}
#: Below this integrated loudness (the BS.1770 absolute gate) a recording counts as silence
#: and gets no gain at all: near-silent noise must not be amplified to the target.
SILENCE_LUFS = -70.0
#: Largest make-up gain. A -60 LUFS recording still reaches -14 LUFS (46 dB); between
#: -64 and -70 LUFS the gain stops here and the report says so.
MAX_MAKEUP_GAIN_DB = 50.0


@dataclass(frozen=True)
class MasteringSettings:
    """Targets of mix_and_master.

    ``eq`` is ``"speech"`` or ``"music"`` (a stored studio curve), the path of a reference
    recording whose long-term spectrum to match, or ``None`` (no EQ). ``background_db`` is
    the separated background's loudness relative to the voice (``None``: removed).
    """

    loudness_lufs: float = -16.0
    true_peak_dbtp: float = -1.0
    eq: str | None = "speech"
    max_eq_db: float = 6.0
    background_db: float | None = -12.0

    def __post_init__(self) -> None:
        if not -70.0 <= self.loudness_lufs <= 0.0:
            raise AuralError(f"loudness target must be between -70 and 0 LUFS, "
                             f"got {self.loudness_lufs:g}")
        if not -20.0 <= self.true_peak_dbtp <= 0.0:
            raise AuralError(f"true-peak ceiling must be between -20 and 0 dBTP, "
                             f"got {self.true_peak_dbtp:g}")
        if not 0.0 <= self.max_eq_db <= 12.0:
            raise AuralError(f"EQ bound must be between 0 and 12 dB, got {self.max_eq_db:g}")

    @classmethod
    def preset(cls, name: str, **changes) -> MasteringSettings:
        """Settings for ``podcast`` (-16 LUFS), ``streaming`` (-14) or ``broadcast`` (-23)."""
        if name not in PRESETS:
            raise AuralError(f"unknown loudness preset {name!r}; choose from {', '.join(PRESETS)}")
        return cls(loudness_lufs=PRESETS[name], **changes)
