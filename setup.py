import re

from setuptools import find_packages, setup

with open("customer_success/__init__.py") as f:
	version = re.search(r'__version__ = "([^"]+)"', f.read()).group(1)

setup(
	name="customer_success",
	version=version,
	description="Customer success platform on ERPNext: handoffs, success plans, health scores, alerts, renewals",
	author="customer_success contributors",
	author_email="dev@customer-success.invalid",
	license="MIT",
	packages=find_packages(exclude=["tests", "tests.*", "benchmarks"]),
	zip_safe=False,
	include_package_data=True,
	python_requires=">=3.10",
	install_requires=[],
	extras_require={"test": ["pytest>=7", "hypothesis>=6", "ruff>=0.6"]},
)
