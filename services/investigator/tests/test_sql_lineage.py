"""Column lineage of diagnostic SELECTs, decided from the parse tree alone (no database)."""

from __future__ import annotations

import pytest

from medic_investigator.domain.sql_lineage import LineageUnknown, base_columns, output_lineage

CATALOG = {
    ("public", "users"): base_columns("users", ["id", "email", "name", "api_token"], ["email", "api_token"]),
    ("public", "practices"): base_columns("practices", ["id", "user_id", "name"], ["email", "api_token"]),
}


def sources(sql: str) -> list[set[str]]:
    return [
        {s for s in c.sources if "." in s}
        for c in output_lineage(sql, catalog=CATALOG, schema="public", redacted=["email", "api_token"])
    ]


def test_each_output_column_names_the_redacted_columns_it_derives_from() -> None:
    assert sources("SELECT id, upper(email) AS e, name || api_token FROM users") == [
        set(),
        {"users.email"},
        {"users.api_token"},
    ]


def test_a_star_expands_in_catalog_order_and_using_merges_the_join_column() -> None:
    assert sources("SELECT * FROM practices JOIN users USING (id)") == [
        set(),
        set(),
        set(),
        {"users.email"},
        set(),
        {"users.api_token"},
    ]


def test_a_where_clause_comparison_does_not_taint_the_output() -> None:
    assert sources("SELECT p.name FROM practices p JOIN users u ON u.id = p.user_id WHERE u.email LIKE 'a%'") == [set()]


def test_a_correlated_subquery_sees_the_outer_rows_columns() -> None:
    assert sources("SELECT (SELECT u.api_token) AS t FROM users u") == [{"users.api_token"}]


def test_a_whole_row_reference_carries_every_redacted_column() -> None:
    assert sources("SELECT to_jsonb(u) FROM users u") == [{"users.email", "users.api_token"}]


@pytest.mark.parametrize(
    "sql",
    ["SELECT * FROM generate_series(1, 3)", "SELECT * FROM unknown_table", "SELECT x.* FROM users"],
)
def test_what_cannot_be_followed_is_reported_not_guessed(sql: str) -> None:
    with pytest.raises(LineageUnknown):
        output_lineage(sql, catalog=CATALOG, schema="public", redacted=["email"])
