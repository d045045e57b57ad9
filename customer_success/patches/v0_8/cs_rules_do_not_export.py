"""Our roles' rules on ERPNext's doctypes were given the export right no rule of ours lists (a new
Custom DocPerm row exports by default): a CSM could export what she reads. Taken back once, on the
rules of ours that list no export (`roles.remove_export_not_given`)."""

from customer_success.setup import roles


def execute():
	roles.remove_export_not_given()
