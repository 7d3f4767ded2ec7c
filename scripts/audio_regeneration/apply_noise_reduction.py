"""Apply the noise_reduction stage to a file (thin entry point: same as `aural apply noise_reduction IN OUT`)."""

import sys

from aural.cli import main

if __name__ == "__main__":
    main(["apply", "noise_reduction", *sys.argv[1:]])
