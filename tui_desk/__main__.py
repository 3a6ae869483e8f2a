import sys

from tui_desk.cli import main

sys.exit(main())
