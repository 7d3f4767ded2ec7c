from aural.cli import main

main()
