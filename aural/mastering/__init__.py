"""mix_and_master: remix the stems, correct the tone, normalise the loudness, limit the true
peak. Signal processing, not a model; it streams, so an hour costs no more memory than a
minute.

In order (DESIGN.md and ``aural regenerate --help``):

a. when separation ran, the background goes back under the voice at ``background_db``
   (loudness relative to the voice; ``None`` removes it) -- :mod:`.stems`;
b. corrective EQ toward a studio curve (``aural/data/studio_curves/<name>.json``, measured by
   ``scripts/measure_studio_curves.py``) or a reference recording's long-term spectrum:
   third-octave bands, smoothed, within +-6 dB, never a boost where the input has no
   content -- :mod:`.eq`;
c. loudness normalisation to the target (BS.1770-4 integrated loudness), the gain planned
   from pass 1 with the EQ's effect on loudness predicted -- :mod:`.plan`;
d. a look-ahead true-peak limiter (:class:`aural.dsp.limiter.TruePeakLimiter`) -- :mod:`.processor`;
e. measure the result again: if it missed the target by more than 0.2 LU (the limiter
   took some loudness away), raise the gain and limit once more -- :mod:`.correction`.

Silence (nothing above the -70 LUFS gate) comes out as it went in; the make-up gain stops
at +50 dB and the report says so.

Two passes, each block by block::

    analysis = MasteringAnalysis(rate, channels)
    for block in blocks: analysis.push(block)            # pass 1
    plan = plan_mastering(analysis.result(), settings)
    processor = MasteringProcessor(plan)
    out = [processor.push(block) for block in blocks] + [processor.flush()]   # pass 2

:func:`master` does all of it in memory, :func:`master_file` from file to file; both
return a report (:mod:`.report`).
"""

from .analysis import Analysis, AnalysisResult, LoudnessMeter, MasteringAnalysis, analyse
from .bands import BAND_CENTRES_HZ
from .eq import CURVES_DIR, studio_curve
from .files import master_file
from .memory import master
from .plan import MasteringPlan, plan_mastering
from .processor import MasteringProcessor
from .settings import MAX_MAKEUP_GAIN_DB, PRESETS, SILENCE_LUFS, MasteringSettings
from .stems import remix, remix_file, split_stems_file

__all__ = ["Analysis", "AnalysisResult", "BAND_CENTRES_HZ", "CURVES_DIR", "LoudnessMeter",
           "MAX_MAKEUP_GAIN_DB", "MasteringAnalysis", "MasteringPlan", "MasteringProcessor",
           "MasteringSettings", "PRESETS", "SILENCE_LUFS", "analyse", "master", "master_file",
           "plan_mastering", "remix", "remix_file", "split_stems_file", "studio_curve"]
