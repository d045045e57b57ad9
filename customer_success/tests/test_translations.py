"""The Simplified Chinese translation file: it parses, keeps placeholders, and frappe serves it."""

import os
import re

import frappe
from frappe.tests.utils import FrappeTestCase
from frappe.translate import clear_cache, get_translation_dict_from_file, get_translations_from_csv

from customer_success.tests.utils import app_modules

APP = "customer_success"
LANG = "zh"
PLACEHOLDER = re.compile(r"\{\d*\}")


def csv_path() -> str:
	return os.path.join(frappe.get_app_path(APP, "translations"), f"{LANG}.csv")


class TestTranslations(FrappeTestCase):
	def setUp(self):
		self.previous_lang = getattr(frappe.local, "lang", None)

	def tearDown(self):
		frappe.local.lang = self.previous_lang
		clear_cache()

	def test_csv_parses_and_is_not_empty(self):
		self.assertTrue(os.path.exists(csv_path()))
		translations = get_translation_dict_from_file(csv_path(), LANG, APP, throw=True)
		self.assertGreater(len(translations), 100)
		self.assertEqual(translations, get_translations_from_csv(LANG, APP))
		for source, translated in translations.items():
			self.assertTrue(source.strip(), "empty source")
			self.assertTrue(translated.strip(), f"empty translation for {source!r}")

	def test_placeholders_are_kept(self):
		for source, translated in get_translations_from_csv(LANG, APP).items():
			self.assertEqual(
				set(PLACEHOLDER.findall(source)),
				set(PLACEHOLDER.findall(translated)),
				f"placeholders differ: {source!r} -> {translated!r}",
			)

	def test_doctype_names_and_labels_are_covered(self):
		translations = get_translations_from_csv(LANG, APP)
		for doctype in frappe.get_all("DocType", filters={"module": ("in", app_modules())}, pluck="name"):
			self.assertIn(doctype, translations)
			for df in frappe.get_meta(doctype).fields:
				if df.label:
					self.assertIn(df.label, translations, f"{doctype}.{df.fieldname}")

	def test_frappe_translates_to_chinese(self):
		translations = get_translations_from_csv(LANG, APP)
		frappe.local.lang = LANG
		clear_cache()
		self.assertEqual(frappe._("Success Plan"), translations["Success Plan"])
		self.assertEqual(frappe._("Success Plan"), "客户成功计划")
		self.assertEqual(frappe._("Customer Health Score"), translations["Customer Health Score"])
		self.assertEqual(
			frappe._("Handoff {0} is already {1}.").format("HO-1", frappe._("Accepted")),
			"交接 HO-1 已经是已接受状态。",
		)

		frappe.local.lang = "en"
		self.assertEqual(frappe._("Success Plan"), "Success Plan")
