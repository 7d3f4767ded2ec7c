"""AURAL: Advanced Understanding and Recognition of Audio Logic.

Turns a recording made on a phone or another cheap device into audio that
sounds as if it had been recorded in a studio, with small Keras stages.
"""

__version__ = "0.1.0"

#: The rate every stage and the runner work at unless a stage states otherwise.
PIPELINE_SAMPLE_RATE = 48_000
