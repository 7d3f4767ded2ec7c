"""Train the noise_reduction stage (thin entry point: same as `aural train noise_reduction`)."""

import sys

from aural.cli import main

if __name__ == "__main__":
    main(["train", "noise_reduction", *sys.argv[1:]])
