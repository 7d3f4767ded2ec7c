"""Mix and master a file only (thin entry point: same as `aural regenerate IN OUT --stages none`)."""

import sys

from aural.cli import main

if __name__ == "__main__":
    main(["regenerate", *sys.argv[1:2], *sys.argv[2:3], "--stages", "none", *sys.argv[3:]])
