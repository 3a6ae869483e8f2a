"""`python -m tui_desk`, and the `tui-desk` command (pyproject.toml's [project.scripts] names
main here).

Cheap to import on purpose: the spawn start method runs a program's main script again in each
process it starts (the multiprocessing docs, "Safe importing of main module"), and the
`tui-desk` script imports this module at its top. Were the CLI imported here, every parse
worker (sync.parse_pool) would import it too: ~0.08 s of CPU each, at a first sync's start."""

import sys


def main(argv: list[str] | None = None) -> int:
    from tui_desk.cli import main as run
    return run(argv)


if __name__ == "__main__":
    sys.exit(main())
