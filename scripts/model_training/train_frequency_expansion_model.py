"""Train the frequency_expansion stage (thin entry point: same as `aural train frequency_expansion`)."""

import sys

from aural.cli import main

if __name__ == "__main__":
    main(["train", "frequency_expansion", *sys.argv[1:]])
