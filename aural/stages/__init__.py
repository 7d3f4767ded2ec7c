"""The stage registry: stage name -> class, imported on first use."""

from __future__ import annotations

import importlib

from aural.errors import AuralError

#: Every stage AURAL knows, in the seed's pipeline order; ``module:Class``.
STAGES = {
    "noise_reduction": "aural.stages.noise_reduction:NoiseReduction",
    "dynamic_compression": "aural.stages.dynamic_compression:DynamicCompression",
    "frequency_expansion": "aural.stages.frequency_expansion:FrequencyExpansion",
    "source_separation": "aural.stages.source_separation:SourceSeparation",
    "frequency_generation": "aural.stages.frequency_generation:FrequencyGeneration",
}


def stage_class(name: str):
    """The class of stage ``name``; :class:`AuralError` for an unknown name."""
    if name not in STAGES:
        raise AuralError(f"unknown stage {name!r}; available: {', '.join(STAGES)}")
    module, attribute = STAGES[name].split(":")
    return getattr(importlib.import_module(module), attribute)
