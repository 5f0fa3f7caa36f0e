"""Hunks of a suspect commit: which overlap the fault, and the guard a commit removed."""

from __future__ import annotations

from medic_implementer.domain.hunks import hunks_patch, overlapping, parse_hunks, removed_guard

DIFF = """diff --git a/src/lib/format.ts b/src/lib/format.ts
--- a/src/lib/format.ts
+++ b/src/lib/format.ts
@@ -1,2 +1,4 @@
-export function formatMoney(amountMinor: number): string {
-  return `£${(amountMinor / 100).toFixed(2)}`;
+const SYMBOLS = { GBP: "£" };
+export function formatMoney(amountMinor: number, currency = "GBP"): string {
+  return `${SYMBOLS[currency]}${(amountMinor / 100).toFixed(2)}`;
+}
@@ -9,4 +11 @@ export function formatDueDate(dueAt: string): string {
-  if (!dueAt) {
-    return "on receipt";
-  }
-  return dueAt.slice(0, 10);
+  return new Date(dueAt).toISOString().slice(0, 10);
"""


def test_only_the_hunk_at_the_fault_overlaps_and_its_removed_guard_is_found() -> None:
    header, hunks = parse_hunks(DIFF)
    assert len(header) == 3 and len(hunks) == 2
    [at_fault] = overlapping(hunks, 11, 11)
    assert at_fault.new_start == 11 and at_fault.new_len == 1
    assert removed_guard(at_fault) == ["  if (!dueAt) {", '    return "on receipt";', "  }"]
    assert removed_guard(hunks[0]) is None
    patch = hunks_patch(header, [at_fault])
    assert patch.count("@@") == 2 and "formatMoney" not in patch.split("@@")[-1]


def test_a_python_guard_block_ends_at_the_dedent() -> None:
    _header, [hunk] = parse_hunks(
        "@@ -3,3 +3,1 @@\n-    if order is None:\n-        return 0\n-    total = order.total\n+    total = order.total\n"
    )
    assert removed_guard(hunk) == ["    if order is None:", "        return 0"]
