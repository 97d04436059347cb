"""``python -m cnnspec`` and the ``cnnspec`` console script.

A Ctrl-C while the command's modules are still being imported ends it as one in the
command does (exit 130, one line), not with a traceback."""

import sys


def main() -> None:
    try:
        from .cli import run
    except KeyboardInterrupt:
        sys.stderr.write("cnnspec: interrupted by SIGINT\n")
        sys.exit(130)
    run()


if __name__ == "__main__":
    main()
