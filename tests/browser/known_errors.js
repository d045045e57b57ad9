"use strict";
// Page errors that are frappe's own, not the app's, and are reported as a note rather than a failure.
//
// frappe-charts redraws a chart from a ResizeObserver; when the desk has drawn the chart's widget
// again meanwhile, the old chart removes an SVG its container no longer holds ("removeChild ... not a
// child of this node", frappe/charts#368, open). It happens on leaving any page with charts (ERPNext's
// Buying workspace too: 1 time in 8 in a probe), at random; matched on its stack, inside frappe's own
// desk bundle only.
function frappeChartsResizeRace(err) {
	const stack = (err && err.stack) || "";
	return (
		/removeChild/.test((err && err.message) || "") &&
		/boundDrawFn/.test(stack) &&
		/\/assets\/frappe\/dist\/js\/desk\.bundle\./.test(stack) &&
		!/customer_success/.test(stack)
	);
}

// `problem` records a failure; `notes` collects what was set aside, for the run's last lines.
function onPageError(problem, notes) {
	return (err) => {
		if (frappeChartsResizeRace(err)) {
			notes.push("frappe-charts' resize race (frappe/charts#368), frappe's desk bundle: set aside");
			return;
		}
		problem(`page error: ${err.message}`);
	};
}

module.exports = { frappeChartsResizeRace, onPageError };
