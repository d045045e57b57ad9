"""The house's rules, checked on the source: one room per domain, pure engines, no import circles,
no room reaching into another room's doctype controllers, thin controllers, whitelisted functions
where an auditor looks for them. Plain pytest: no frappe needed."""

import ast
import importlib
import pathlib
import sys

import pytest

PACKAGE = pathlib.Path(__file__).resolve().parents[2] / "customer_success"
ROOMS = ("handoff", "success_plans", "health", "alerts", "renewals", "usage", "segments", "maturity")
ROOM_FILES = ("engine.py", "queries.py", "service.py", "jobs.py", "api.py")
PURE_ALLOWED = {"customer_success.numbers"}
MAX_CONTROLLER_LINES = 300


def module_name(path: pathlib.Path) -> str:
	parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
	return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def is_test(path: pathlib.Path) -> bool:
	return path.name.startswith("test_") or "tests" in path.relative_to(PACKAGE).parts


def source_files() -> list[pathlib.Path]:
	return [p for p in PACKAGE.rglob("*.py") if not is_test(p)]


def imported_modules(path: pathlib.Path) -> set[str]:
	"""Every module a file imports, at the top or inside a function (both can close a circle)."""
	names = set()
	for node in ast.walk(ast.parse(path.read_text())):
		if isinstance(node, ast.Import):
			names.update(alias.name for alias in node.names)
		elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
			names.add(node.module)
			names.update(f"{node.module}.{alias.name}" for alias in node.names)
	return names


def internal_graph() -> dict[str, set[str]]:
	files = source_files()
	modules = {module_name(p) for p in files}
	return {
		module_name(p): {m for m in imported_modules(p) if m in modules} - {module_name(p)} for p in files
	}


@pytest.mark.parametrize("room", ROOMS)
def test_every_room_has_the_five_kinds_of_file(room):
	for name in ROOM_FILES:
		assert (PACKAGE / room / name).is_file(), f"{room}/{name} is missing"
	assert (PACKAGE / room / "doctype").is_dir()


@pytest.mark.parametrize("room", ROOMS)
def test_engines_are_pure(room):
	path = PACKAGE / room / "engine.py"
	for name in imported_modules(path):
		top = name.split(".")[0]
		assert top not in {"frappe", "erpnext"}, f"{room}/engine.py imports {name}"
		if top == "customer_success":
			assert (
				name in PURE_ALLOWED or name.endswith(".engine") or name.rsplit(".", 1)[0] in PURE_ALLOWED
			), f"{room}/engine.py imports {name}: an engine may use only other engines and pure helpers"


@pytest.mark.parametrize("room", ROOMS)
def test_engines_import_without_frappe(room):
	assert "frappe" not in sys.modules or room  # the unit layer runs without frappe installed
	importlib.import_module(f"customer_success.{room}.engine")


def test_no_import_circles():
	graph = internal_graph()
	seen, stack, cycles = set(), [], []

	def visit(node):
		if node in stack:
			cycles.append([*stack[stack.index(node) :], node])
			return
		if node in seen:
			return
		seen.add(node)
		stack.append(node)
		for nxt in sorted(graph.get(node, ())):
			visit(nxt)
		stack.pop()

	for node in sorted(graph):
		visit(node)
	assert not cycles, "import circles: " + "; ".join(" -> ".join(c) for c in cycles)


def test_no_room_imports_another_rooms_doctype_controllers():
	problems = []
	for path in source_files():
		here = path.relative_to(PACKAGE).parts[0]
		for name in imported_modules(path):
			parts = name.split(".")
			if (
				len(parts) > 2
				and parts[0] == "customer_success"
				and parts[1] in ROOMS
				and parts[2] == "doctype"
			):
				if parts[1] != here:
					problems.append(f"{path.relative_to(PACKAGE)} imports {name}")
	assert not problems, "\n".join(problems)


def test_controllers_stay_thin():
	fat = []
	for path in PACKAGE.glob("*/doctype/*/*.py"):
		if is_test(path) or path.name == "__init__.py":
			continue
		text = path.read_text()
		if "# begin: auto-generated types" in text:  # frappe writes that block; it is not our code
			head, rest = text.split("# begin: auto-generated types", 1)
			text = head + rest.split("# end: auto-generated types", 1)[-1]
		lines = len(text.splitlines())
		if lines > MAX_CONTROLLER_LINES:
			fat.append(f"{path.relative_to(PACKAGE)}: {lines} lines")
	assert not fat, "controllers over the limit:\n" + "\n".join(fat)


def test_whitelisted_functions_live_in_api_modules_or_on_documents():
	misplaced = []
	for path in source_files():
		rel = path.relative_to(PACKAGE)
		if "doctype" in rel.parts or "dashboard_chart_source" in rel.parts or rel.parts[0] == "www":
			continue
		if path.name == "api.py":
			continue
		if "frappe.whitelist" in path.read_text():
			misplaced.append(str(rel))
	assert not misplaced, "whitelisted functions outside api.py: " + ", ".join(misplaced)
