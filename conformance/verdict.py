"""The one rule that turns a row's scenario outcomes into its verdict.

A row has core scenarios (the method used as the seed's examples use it) and one probe per
documented caveat (the thing the caveat restricts, exercised the stock-MLflow way):

- Yes: every core scenario and every probe passes.
- Yes with caveat: every core scenario passes, at least one probe fails (the failing probes
  are the caveats observed).
- Partial: some core scenarios pass, some fail.
- No: no core scenario passes.
- Not applicable: the client version under test has none of the row's core calls (a method
  it no longer has); scenarios that do not apply to it count neither way.
"""

from __future__ import annotations

YES = "Yes"
YES_WITH_CAVEAT = "Yes with caveat"
PARTIAL = "Partial"
NO = "No"
NOT_RUN = "Not run"
NOT_APPLICABLE = "Not applicable"


def verdict(core: list[bool | None], probes: list[bool | None]) -> str:
    """The verdict of a row from the pass (True) / fail (False) / not applicable (None)
    outcomes of its scenarios."""
    if not core:
        return NOT_RUN
    core = [c for c in core if c is not None]
    probes = [p for p in probes if p is not None]
    if not core:
        return NOT_APPLICABLE
    if all(core):
        return YES if all(probes) else YES_WITH_CAVEAT
    return PARTIAL if any(core) else NO
