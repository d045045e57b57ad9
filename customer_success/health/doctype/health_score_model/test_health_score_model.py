import frappe
from frappe.tests.utils import FrappeTestCase

from customer_success.setup.defaults import DEFAULT_MODEL_NAME


def model(name="_CS Test Model", factors=None, **fields):
	factors = factors or [("Support Load", 60), ("Payment Behaviour", 40)]
	return frappe.get_doc(
		{
			"doctype": "Health Score Model",
			"model_name": name,
			"enabled": 1,
			"green_min": 70,
			"red_below": 40,
			"factors": [
				{"factor_type": f[0], "weight": f[1], "enabled": 1, **(f[2] if len(f) > 2 else {})}
				for f in factors
			],
			**fields,
		}
	)


class TestHealthScoreModel(FrappeTestCase):
	def tearDown(self):
		frappe.db.rollback()

	def assertRaisesMessage(self, doc, *fragments):
		with self.assertRaises(frappe.ValidationError) as ctx:
			doc.insert()
		for fragment in fragments:
			self.assertIn(fragment, str(ctx.exception))
		self.assertFalse(frappe.db.exists("Health Score Model", doc.model_name))

	def test_default_model_is_installed(self):
		default = frappe.get_doc("Health Score Model", DEFAULT_MODEL_NAME)
		self.assertTrue(default.is_default)
		self.assertEqual(sum(f.weight for f in default.factors if f.enabled), 100)
		self.assertEqual(
			frappe.db.get_single_value("Customer Success Settings", "default_health_model"),
			DEFAULT_MODEL_NAME,
		)

	def test_valid_model_saves_with_total(self):
		doc = model().insert()
		self.assertEqual(doc.total_weight, 100)
		self.assertTrue(doc.factors[0].explanation)

	def test_weights_must_sum_to_100(self):
		self.assertRaisesMessage(
			model(factors=[("Support Load", 50), ("SLA Breaches", 30)]), "add up to 100", "80"
		)

	def test_weights_must_be_positive(self):
		self.assertRaisesMessage(
			model(factors=[("Support Load", 120), ("SLA Breaches", -20)]), "must be more than 0"
		)

	def test_disabled_factors_do_not_count(self):
		doc = model(factors=[("Support Load", 100), ("SLA Breaches", 50, {"enabled": 0})]).insert()
		self.assertEqual(doc.total_weight, 100)

	def test_bands_must_be_ordered(self):
		self.assertRaisesMessage(model(green_min=40, red_below=70), "Bands must be ordered")
		self.assertRaisesMessage(
			model(name="_CS Test Model 2", green_min=120, red_below=40), "Bands must be ordered"
		)

	def test_factor_only_once(self):
		self.assertRaisesMessage(model(factors=[("Support Load", 50), ("Support Load", 50)]), "appears twice")

	def test_parameters_are_checked(self):
		self.assertRaisesMessage(
			model(factors=[("Support Load", 50, {"parameters": "{not json"}), ("SLA Breaches", 50)]),
			"valid JSON",
		)
		self.assertRaisesMessage(
			model(factors=[("Support Load", 50, {"parameters": '{"colour": 3}'}), ("SLA Breaches", 50)]),
			"has no parameter colour",
		)
		self.assertRaisesMessage(
			model(
				factors=[("Support Load", 50, {"parameters": '{"worst_value": "ten"}'}), ("SLA Breaches", 50)]
			),
			"must be a number",
		)
		doc = model(
			factors=[("Support Load", 50, {"parameters": '{"worst_value": 20}'}), ("SLA Breaches", 50)]
		).insert()
		self.assertEqual(doc.factor_specs()[0].params, {"worst_value": 20})

	def test_only_one_default(self):
		doc = model(is_default=1).insert()
		self.assertEqual(
			frappe.get_all("Health Score Model", filters={"is_default": 1}, pluck="name"), [doc.name]
		)
		self.assertEqual(
			frappe.db.get_single_value("Customer Success Settings", "default_health_model"), doc.name
		)

	def test_default_cannot_be_unset_or_deleted_without_another(self):
		default = frappe.get_doc("Health Score Model", DEFAULT_MODEL_NAME)
		default.is_default = 0
		with self.assertRaises(frappe.ValidationError):
			default.save()
		with self.assertRaises(frappe.ValidationError):
			frappe.delete_doc("Health Score Model", DEFAULT_MODEL_NAME)

	def test_csm_reads_but_cannot_edit_models(self):
		from customer_success.tests.utils import make_user

		make_user("cs-model-csm@example.com", ["Customer Success Manager"])
		self.assertTrue(frappe.has_permission("Health Score Model", "read", user="cs-model-csm@example.com"))
		self.assertFalse(
			frappe.has_permission("Health Score Model", "write", user="cs-model-csm@example.com")
		)

	def test_other_parameters_are_bounded_and_in_order(self):
		for factor, parameters, words in (
			("Product Usage", '{"target_ratio": -1}', "more than 0 and at most 1"),
			("SLA Breaches", '{"worst_ratio": 0}', "more than 0 and at most 1"),
			("Revenue Trend", '{"worst_change": 0.2}', "at least -1 and less than 0"),
			("Renewal Proximity", '{"floor_score": 150}', "at least 0 and at most 100"),
			("Support Load", '{"worst_value": 0}', "more than 0"),
		):
			self.assertRaisesMessage(
				model(factors=[(factor, 50, {"parameters": parameters}), ("CSM Sentiment", 50)]),
				f"must be {words}",
			)
		self.assertRaisesMessage(
			model(
				factors=[
					("Engagement Recency", 50, {"parameters": '{"good_days": 100, "worst_days": 50}'}),
					("Support Load", 50),
				]
			),
			"good_days of Engagement Recency must be below worst_days",
		)
		doc = model(
			factors=[
				("Engagement Recency", 50, {"parameters": '{"good_days": 7, "worst_days": 60}'}),
				("Product Usage", 50, {"parameters": '{"target_ratio": 1}'}),
			]
		).insert()
		self.assertEqual(doc.factor_specs()[1].params, {"target_ratio": 1})

	def test_day_parameters_are_bounded(self):
		for value in ("0", "-5", "3651", "100000", "12.5"):
			self.assertRaisesMessage(
				model(
					factors=[
						("SLA Breaches", 50, {"parameters": f'{{"lookback_days": {value}}}'}),
						("Support Load", 50),
					]
				),
				"lookback_days",
				"from 1 to 3650",
			)
		self.assertRaisesMessage(
			model(
				factors=[
					("Engagement Recency", 50, {"parameters": '{"worst_days": Infinity}'}),
					("Support Load", 50),
				]
			),
			"worst_days",
			"must be a number",
		)
		doc = model(
			factors=[
				("Engagement Recency", 50, {"parameters": '{"good_days": 1, "worst_days": 3650}'}),
				("Support Load", 50),
			]
		).insert()
		self.assertEqual(doc.factor_specs()[0].params, {"good_days": 1, "worst_days": 3650})

	def test_one_enabled_model_per_tier(self):
		model("_CS Test Tier A", applies_to_tier="Strategic").insert()
		self.assertRaisesMessage(
			model("_CS Test Tier B", applies_to_tier="Strategic"), "Applies to Tier", "_CS Test Tier A"
		)
		# a disabled second model for the tier may be kept, but not enabled beside the first
		second = model("_CS Test Tier B", applies_to_tier="Strategic", enabled=0).insert()
		second.enabled = 1
		with self.assertRaises(frappe.ValidationError):
			second.save()
		self.assertFalse(frappe.db.get_value("Health Score Model", second.name, "enabled"))
		model("_CS Test Tier C", applies_to_tier="Enterprise").insert()  # another tier is fine

	def test_a_factors_explanation_is_stored_in_the_sites_language_whoever_saves(self):
		"""The install saves the model in English, and a colleague in her own language: each factor's
		explanation is stored text, read by everyone, so it is in the site's language."""
		from customer_success.health.doctype.health_score_model.health_score_model import FACTOR_EXPLANATIONS
		from customer_success.utils import in_language, site_language

		other = "zh" if site_language() != "zh" else "en"
		model = frappe.get_doc("Health Score Model", DEFAULT_MODEL_NAME)
		with in_language(other):
			model.save()
		row = model.factors[0]
		with in_language(site_language()):
			expected = frappe._(FACTOR_EXPLANATIONS[row.factor_type])
		self.assertEqual(frappe.db.get_value("Health Score Factor", row.name, "explanation"), expected)
