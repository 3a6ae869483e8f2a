import sys

from tui_desk.cli import main

if __name__ == "__main__":  # parse workers are spawned and import this module again
    sys.exit(main())
