"""The ``semcom`` command line: one entry point, one subcommand per tool.

Each subcommand lives in its own module exposing ``add_parser(subparsers)``; the module's heavy
imports (torch, GNU Radio) happen only when that subcommand runs, so ``semcom doctor`` and
``semcom --help`` stay fast.
"""

from __future__ import annotations

import argparse
import errno
import importlib
import os
import signal
import sys
import threading

# subcommand name -> module (semcom/cli/<name>.py) implementing add_parser(subparsers, name)
SUBCOMMANDS = {name: f"semcom.cli.{name}" for name in (
    "doctor", "train", "eval", "models", "flowgraphs", "tx", "channel", "loopback", "calibrate",
    "rx", "dataset")}


def app_parser(sub, name: str, app, help: str, add_arguments, description: str | None = None,
               run=None) -> argparse.ArgumentParser:
    """The usual subcommand: ``add_arguments`` declares its options, ``app`` (the module that
    runs it, already imported by the caller so that a missing dependency lists the subcommand
    as unavailable) gives the description (its docstring's first paragraph) and the run
    (``app.run`` unless ``run`` is given)."""
    if description is None:
        description = (app.__doc__ or "").split("\n\n")[0]
    p = sub.add_parser(name, help=help, description=description)
    add_arguments(p)
    p.set_defaults(func=run or app.run)
    return p


def torch_app(modname: str):
    """``(module docstring, run)`` of an app module that needs torch, without importing it:
    importing torch takes about 1.5 s, which ``semcom --help`` and every other subcommand
    would wait for. Without torch: ImportError (the subcommand is listed as unavailable)."""
    import ast
    import importlib.util

    if importlib.util.find_spec("torch") is None:
        raise ImportError("No module named 'torch'")
    # the file, found from its top-level package (find_spec of a submodule would import the
    # package, and ``models`` imports torch)
    top, _, rest = modname.partition(".")
    spec = importlib.util.find_spec(top)
    dirs = list(getattr(spec, "submodule_search_locations", None) or [])   # namespace too
    path = os.path.join(dirs[0], *rest.split(".")) + ".py" if dirs and rest else \
        getattr(spec, "origin", None)
    if not path or not os.path.isfile(path):
        raise ImportError(f"No module named {modname!r}")
    with open(path, encoding="utf-8") as f:
        doc = ast.get_docstring(ast.parse(f.read())) or ""

    def run(args):
        try:
            app = importlib.import_module(modname)
        except ImportError as exc:      # torch is there but does not import: say so
            print(f"semcom {getattr(args, 'command', modname)}: cannot run: {exc}. Run "
                  "`semcom doctor`, then `make setup`.", file=sys.stderr)
            return 1
        return app.run(args)
    return doc, run


# Refusals of bad input: (module, class). A module that was never imported cannot have raised,
# so only those already in sys.modules are looked at (no torch import to print an error).
USER_ERRORS = (("models.checkpoint", "CheckpointError"), ("semcom.rate_table", "RateTableError"),
               ("semcom.header", "HeaderError"), ("semcom.validate", "OptionError"),
               ("semcom.images", "ImageError"), ("models.data", "CifarBatchError"),
               ("models.softcast", "SideError"), ("semcom.sideinfo", "SideInfoError"),
               ("semcom.radio", "RadioError"), ("semcom.mcs", "MCSError"))
OS_USER_ERRORS = (FileNotFoundError, IsADirectoryError, NotADirectoryError, PermissionError)


def is_user_error(exc: BaseException) -> bool:
    """A refusal of the user's input (one line, exit 2), recognised by its class."""
    if isinstance(exc, OS_USER_ERRORS):
        return True
    for mod, name in USER_ERRORS:
        cls = getattr(sys.modules.get(mod), name, None)
        if cls is not None and isinstance(exc, cls):
            return True
    zmq = sys.modules.get("zmq")
    return (zmq is not None and isinstance(exc, zmq.ZMQError)
            and getattr(exc, "errno", None) in ZMQ_USER_ERRNOS)


# ZMQ errors that come from a user's address: a port in use, a malformed or unknown endpoint
ZMQ_USER_ERRNOS = {errno.EADDRINUSE, errno.EINVAL, errno.EADDRNOTAVAIL, errno.ENODEV,
                   errno.EPROTONOSUPPORT, errno.EACCES}


class Parser(argparse.ArgumentParser):
    """argparse with a one-line error (``semcom tx: error: ...``) and exit status 2."""

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message} (see --help)\n")


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised in the main thread: every command stops as on Ctrl-C (files stay valid)."""


def _on_sigterm(signum, frame):
    signal.signal(signal.SIGTERM, signal.SIG_IGN)      # once: let the clean-up finish
    _SIGTERM_SEEN[0] = True
    raise Terminated()


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(
        prog="semcom",
        description="Over-the-air semantic (deep JSCC) image transmission testbed.",
    )
    from semcom import __version__

    parser.add_argument("--version", action="version", version=f"semcom {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name, modname in SUBCOMMANDS.items():
        try:
            # a subcommand's options may come from the component that runs it (imported here)
            importlib.import_module(modname).add_parser(sub, name)
        except ImportError as exc:
            # A broken install must not take down the rest of the CLI (semcom doctor above
            # all): the subcommand stays listed and explains what is missing.
            _unavailable(sub, name, exc)
    return parser


def _unavailable(sub, name: str, exc: ImportError) -> None:
    p = sub.add_parser(name, help=f"(unavailable: {exc})", add_help=False, prefix_chars="\0")
    p.add_argument("rest", nargs=argparse.REMAINDER)

    def fail(args) -> int:
        print(f"semcom {name}: cannot run: {exc}. Run `semcom doctor`, then `make setup`.",
              file=sys.stderr)
        return 1
    p.set_defaults(func=fail)


def main(argv: list[str] | None = None) -> int:
    # SIGTERM stops a command like Ctrl-C does (a command may install its own handler); it is
    # installed before the subcommands are imported, so a SIGTERM in the first second (torch,
    # GNU Radio loading) also ends with 143 rather than a bare signal death
    main_thread = threading.current_thread() is threading.main_thread()
    if main_thread:
        signal.signal(signal.SIGTERM, _on_sigterm)
    terminated = False
    command = "(starting)"
    try:
        args = build_parser().parse_args(argv)
        command = args.command
        rc = int(args.func(args) or 0)
        sys.stdout.flush()              # here, where a closed pipe is caught (not at exit)
    except KeyboardInterrupt as exc:
        terminated = isinstance(exc, Terminated)
        print(f"semcom {command}: {'terminated' if terminated else 'interrupted'}",
              file=sys.stderr)
        rc = 130
    except BrokenPipeError:
        # the reader went away (`semcom models | head`): no traceback; stdout goes to
        # /dev/null so the interpreter's final flush does not fail again
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 141                      # 128 + SIGPIPE, as a shell reports it
    except Exception as exc:
        # refusals of bad input (a wrong checkpoint, a table of another model, a missing
        # file, a bad option value, a port in use) are a clear one-line message, not a
        # traceback
        if is_user_error(exc):
            print(f"semcom {command}: {one_line(exc)}", file=sys.stderr)
            return 2
        raise
    finally:
        if main_thread:
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
    if rc == 130 and (terminated or _SIGTERM_SEEN[0]):
        rc = 143                        # 128 + SIGTERM: the truth about how it ended
    if rc in (130, 143) and argv is None:
        # interrupted from the command line: the command has written and closed its files;
        # skip the interpreter's teardown (GNU Radio and torch threads, up to a second or
        # more) so that Ctrl-C and SIGTERM end every command within 2 s
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(rc)
    return rc


_SIGTERM_SEEN = [False]


def one_line(exc: BaseException, limit: int = 300) -> str:
    """An error message on one line (a library's multi-line text folded and cut)."""
    text = " ".join(str(exc).split())
    return text if len(text) <= limit else text[:limit - 3] + "..."


if __name__ == "__main__":
    sys.exit(main())
