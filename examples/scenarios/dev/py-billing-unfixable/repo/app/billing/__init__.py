"""Billing: tax and invoice totals. Changes here go through finance review (see CODEOWNERS)."""
