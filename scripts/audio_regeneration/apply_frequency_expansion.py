"""Apply the frequency_expansion stage to a file (thin entry point: same as `aural apply frequency_expansion IN OUT`)."""

import sys

from aural.cli import main

if __name__ == "__main__":
    main(["apply", "frequency_expansion", *sys.argv[1:]])
