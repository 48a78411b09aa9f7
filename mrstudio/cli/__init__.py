"""The ``mrstudio`` command line. Without a subcommand it starts the GUI.

Errors on bad input: exit status 2 and one line ``mrstudio: error: <what>: <why>`` on
stderr (``--debug`` shows the traceback). Importing this package imports neither torch
nor Qt; each subcommand imports what it needs (``commands``); ``parser`` builds argparse.
"""

from __future__ import annotations

import sys

from .batch import cmd_batch
from .commands import cmd_bench, cmd_gui, cmd_info, cmd_interp, cmd_phantom, cmd_recon, cmd_train
from .errors import UsageError
from .pacs import cmd_pacs
from .parser import build_parser

__all__ = ["main", "build_parser", "UsageError"]

COMMANDS = {"info": cmd_info, "phantom": cmd_phantom, "recon": cmd_recon, "interp": cmd_interp, "bench": cmd_bench,
            "train": cmd_train, "batch": cmd_batch, "pacs": cmd_pacs}


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    debug = "--debug" in argv
    from ..core.errors import ParameterError, StudyError
    from ..core.jobs import Cancelled

    try:
        args = build_parser().parse_args(argv)
        return COMMANDS.get(args.command, cmd_gui)(args)
    except UsageError as exc:
        print(f"mrstudio: error: {exc}", file=sys.stderr)
        return 2
    except StudyError as exc:
        if debug:
            raise
        what = exc.flag if isinstance(exc, ParameterError) else exc.source  # a flag is what a CLI user typed
        print(f"mrstudio: error: {what}: {exc.cli_reason()}".replace("\n", " "), file=sys.stderr)
        return 2
    except (Cancelled, KeyboardInterrupt):
        print("mrstudio: cancelled", file=sys.stderr)
        return 130
    except Exception as exc:  # an internal failure: still one line unless --debug
        if debug:
            raise
        print(f"mrstudio: error: internal error: {type(exc).__name__}: {exc} (run with --debug for the traceback)"
              .replace("\n", " "), file=sys.stderr)
        return 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
