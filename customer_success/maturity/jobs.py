"""Scheduler entry points for maturity: none run on a schedule. An assessment is made by a person
(CS Maturity Assessment, New); this module is here so every room has the same five files."""
