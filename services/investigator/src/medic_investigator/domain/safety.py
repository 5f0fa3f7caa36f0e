"""The safety rules of a diagnosis: protected paths and the cases a human must decide.

Whatever the provider says (an LLM can be talked into anything), a fix of a protected file, a
diagnosis that localises nothing and one below the fixability threshold go to a human.
"""

from __future__ import annotations

from medic_contracts import ALWAYS_PROTECTED_PATHS, Evidence, FixStrategy, MedicConfig, TargetConfig

from .diagnosis import Diagnosis, Investigation
from .playbook import playbook_diagnose
from .untrusted import glob_match

__all__ = [
    "apply_safety_rules",
    "fallback_diagnosis",
    "keeps_waiting",
    "protected_evidence",
    "protected_globs",
    "protected_match",
]


def protected_globs(target: TargetConfig, config: MedicConfig | None) -> tuple[str, ...]:
    """Every protected-path glob for ``target``: the runtime config's, the target's and the always-protected ones."""
    base = config.protected_paths if config is not None else MedicConfig().protected_paths
    return (*base, *target.protected_paths, *ALWAYS_PROTECTED_PATHS)


def protected_match(file: str, globs: tuple[str, ...]) -> str | None:
    """The glob that protects ``file``, or None."""
    return glob_match(file, globs)


def protected_evidence(file: str, matched: str, *, source: str | None = None) -> Evidence:
    """The policy evidence saying ``file`` gets no automatic fix."""
    return Evidence(kind="policy", summary=f"{file} is a protected path ({matched}): no automatic fix", source=source)


def fallback_diagnosis(inv: Investigation, *, reason: str, kind: str) -> Diagnosis:
    """The playbook's diagnosis handed to a human when the provider cannot give one (budget, refusal, bad answer)."""
    base = playbook_diagnose(inv)
    return base.adjusted(
        needs_human=True,
        fix_strategy=FixStrategy.NEEDS_HUMAN,
        evidence=(*base.evidence, Evidence(kind=kind, summary=reason[:1000], source="investigator")),
        provider="playbook",
        model="playbook-1",
        root_cause=f"{base.root_cause} (a human must decide: {reason})"[:5000],
        fix_hint=(f"suggested by the playbook: {base.fix_strategy.value}\n" + (base.fix_hint or ""))[:5000],
    )


def keeps_waiting(*, waited_s: float, patience_s: float) -> bool:
    """Whether a diagnosis still waits out an unavailable provider, or falls back and goes to a human.

    A sustained outage (a 429 storm, a hanging API) must not hold an issue forever: past the patience
    the last attempt's failure escalates instead of postponing again.
    """
    return waited_s < patience_s


def apply_safety_rules(
    diagnosis: Diagnosis, *, culprit_protected: bool, globs: tuple[str, ...], needs_human_below: float
) -> Diagnosis:
    """``diagnosis`` with ``needs_human`` set where a rule says a human decides.

    A protected culprit file, or a protected file the provider names instead, caps fixability at 0.2;
    no affected file means no automatic fix; fixability under ``needs_human_below`` asks a human.
    """
    protected = culprit_protected
    if diagnosis.affected_file and not protected:
        matched = protected_match(diagnosis.affected_file, globs)
        if matched:
            protected = True
            diagnosis = diagnosis.adjusted(evidence=(*diagnosis.evidence, protected_evidence(diagnosis.affected_file, matched)))
    if protected and not diagnosis.needs_human:
        diagnosis = diagnosis.adjusted(needs_human=True, fixability=min(diagnosis.fixability, 0.2))
    if diagnosis.affected_file is None and not diagnosis.needs_human:
        diagnosis = diagnosis.adjusted(needs_human=True, fix_strategy=FixStrategy.NEEDS_HUMAN)
    if diagnosis.fixability < needs_human_below and not diagnosis.needs_human:
        diagnosis = diagnosis.adjusted(needs_human=True)
    return diagnosis
