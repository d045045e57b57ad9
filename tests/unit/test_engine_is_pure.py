"""The pure core must run without frappe: importing every engine module proves it here."""

import ast
import importlib
import pathlib
import pkgutil

import customer_success.engine as engine

ENGINE_DIR = pathlib.Path(engine.__file__).parent


def test_every_engine_module_imports_without_frappe():
	for module in pkgutil.iter_modules([str(ENGINE_DIR)]):
		importlib.import_module(f"customer_success.engine.{module.name}")


def test_no_engine_module_mentions_frappe_in_its_imports():
	for path in ENGINE_DIR.glob("*.py"):
		tree = ast.parse(path.read_text())
		for node in ast.walk(tree):
			if isinstance(node, ast.Import):
				names = [alias.name for alias in node.names]
			elif isinstance(node, ast.ImportFrom):
				names = [node.module or ""]
			else:
				continue
			assert not any(name.split(".")[0] in {"frappe", "erpnext"} for name in names), path.name
