"""List the modules over 400 lines and the functions over 60 lines in a source tree.

The house limits (docs/architecture.md): no module over 400 lines, no function over 60
lines, so each fits on a screen. A module's size is its line count; a function's is
from its ``def`` line (decorators excluded) to its last line, inclusive, as ``ast``
reports them; nested functions count inside their parent and on their own.

Usage::

    python tools/sizes.py [ROOT]        # ROOT defaults to src/burnout next to this file

Prints one line per offender, largest first, and exits 1 when there is any.
"""

from __future__ import annotations

import ast
import sys
from dataclasses import dataclass
from pathlib import Path

MODULE_LIMIT = 400
FUNCTION_LIMIT = 60


@dataclass(frozen=True)
class Size:
    """One module's or function's size: ``where`` is ``path`` or ``path:qualname``."""

    where: str
    lines: int


def module_lines(path: Path) -> int:
    """The number of lines in a file (a last line without a newline counts)."""
    return len(path.read_text(encoding="utf-8").splitlines())


def function_sizes(path: Path) -> list[Size]:
    """Every function and method in a file with its length from ``def`` to its last line."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    sizes: list[Size] = []

    def visit(node: ast.AST, prefix: str) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef):
                name = f"{prefix}{child.name}"
                end = child.end_lineno if child.end_lineno is not None else child.lineno
                sizes.append(Size(f"{path}:{name}", end - child.lineno + 1))
                visit(child, f"{name}.")
            elif isinstance(child, ast.ClassDef):
                visit(child, f"{prefix}{child.name}.")
            else:
                visit(child, prefix)

    visit(tree, "")
    return sizes


def oversized(root: Path) -> tuple[list[Size], list[Size]]:
    """The modules over MODULE_LIMIT and the functions over FUNCTION_LIMIT under ``root``, largest first."""
    modules: list[Size] = []
    functions: list[Size] = []
    for path in sorted(root.rglob("*.py")):
        n = module_lines(path)
        if n > MODULE_LIMIT:
            modules.append(Size(str(path), n))
        functions.extend(s for s in function_sizes(path) if s.lines > FUNCTION_LIMIT)
    by_size = lambda s: (-s.lines, s.where)  # noqa: E731
    return sorted(modules, key=by_size), sorted(functions, key=by_size)


def largest(root: Path) -> tuple[Size, Size]:
    """The largest module and the longest function under ``root`` (for the closing note)."""
    paths = sorted(root.rglob("*.py"))
    module = max((Size(str(p), module_lines(p)) for p in paths), key=lambda s: s.lines)
    function = max((s for p in paths for s in function_sizes(p)), key=lambda s: s.lines)
    return module, function


def main(argv: list[str]) -> int:
    root = Path(argv[1]) if len(argv) > 1 else Path(__file__).resolve().parent.parent / "src" / "burnout"
    modules, functions = oversized(root)
    print(f"modules over {MODULE_LIMIT} lines: {len(modules)}")
    for s in modules:
        print(f"  {s.lines:5d}  {s.where}")
    print(f"functions over {FUNCTION_LIMIT} lines: {len(functions)}")
    for s in functions:
        print(f"  {s.lines:5d}  {s.where}")
    module, function = largest(root)
    print(f"largest module: {module.where} ({module.lines} lines)")
    print(f"longest function: {function.where} ({function.lines} lines)")
    return 1 if modules or functions else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
